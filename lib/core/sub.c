#include <string.h>

#include "base/buf.h"
#include "base/text.h"
#include "core/sub.h"

int
sub_state_grants_access(enum sub_state st)
{
	switch (st) {
	case SUB_TRIALING:
	case SUB_ACTIVE:
	case SUB_CANCELED:
	case SUB_PAST_DUE: return 1;
	default: return 0;
	}
}

int64_t
sub_access_end(const struct sub_row *r, const struct cfg_policy *p)
{
	switch (r->state) {
	case SUB_TRIALING: return r->trial_end != 0 ? r->trial_end : r->period_end;
	case SUB_ACTIVE: return r->period_end != 0 ? r->period_end + p->leeway : 0;
	case SUB_CANCELED: return r->period_end;
	case SUB_PAST_DUE: return r->grace_until != 0 ? r->grace_until : r->state_at + p->grace;
	default: return 0;
	}
}

int
sub_has_access(const struct sub_row *r, const struct cfg_policy *p, int64_t now)
{
	int64_t end;

	if (!sub_state_grants_access(r->state))
		return 0;
	end = sub_access_end(r, p);
	return end == 0 || end > now;
}

/* The App Store's and Google Play's own pages where a customer manages subscriptions. */
#define APP_STORE_MANAGE   "https://apps.apple.com/account/subscriptions"
#define GOOGLE_PLAY_MANAGE "https://play.google.com/store/account/subscriptions"

/* Who sells and renews r, from the customer's side (sub.h). */
static const char *
managed_in(const struct sub_row *r)
{
	static const struct {
		const char *store, *where;
	} stores[] = {
		/* RevenueCat's names of the stores (its webhooks' "store") */
		{ "APP_STORE", "app_store" },
		{ "MAC_APP_STORE", "app_store" },
		{ "PLAY_STORE", "google_play" },
		{ "STRIPE", "stripe" },
		{ "AMAZON", "amazon" },
	};
	size_t i;

	if (strcmp(r->provider, "stripe") == 0)
		return "stripe";
	if (strcmp(r->provider, "apple") == 0)
		return "app_store";
	if (strcmp(r->provider, "google") == 0)
		return "google_play";
	if (strcmp(r->provider, "telegram") == 0 && strncmp(r->ext_id, "plan:", 5) != 0)
		return "telegram"; /* a Stars subscription: canceled in Telegram itself */
	if (strcmp(r->provider, "revenuecat") != 0)
		return "app";
	for (i = 0; i < sizeof(stores) / sizeof(stores[0]); i++)
		if (strcmp(r->store, stores[i].store) == 0)
			return stores[i].where;
	return "revenuecat";
}

/*
 * The Play product id (the sku of the manage link) of r: the subscription id
 * of the product's first match.google id ("subscription:base_plan" or the
 * subscription), else, bought through RevenueCat, of its first
 * match.revenuecat id of that form (App Store ids hold no ':'). 0 when none.
 */
static int
play_sku(const struct cfg *c, const struct sub_row *r, char *out, size_t size)
{
	const struct product *p = cfg_product(c, r->product);
	const char *colon;
	size_t i, pass;

	if (p == NULL)
		return 0;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < p->nmatch; i++) {
			const struct product_match *m = &p->match[i];
			colon = strchr(m->id, ':');
			if (pass == 0 ? strcmp(m->provider, "google") != 0
				      : strcmp(m->provider, "revenuecat") != 0 || colon == NULL ||
				    strcmp(r->provider, "revenuecat") != 0)
				continue;
			return text_copyn(out, size, m->id,
				   colon != NULL ? (size_t)(colon - m->id) : strlen(m->id)) ==
			    TERR_OK;
		}
	return 0;
}

/* Append s percent-encoded as a query value (RFC 3986 2.3: unreserved bytes as they are). */
static void
escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			buf_putc(b, (char)*p);
		else {
			buf_putc(b, '%');
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 15]);
		}
	}
}

static void
manage_url(const struct sub_row *r, const struct cfg *c, const char *where, char *out, size_t size)
{
	char sku[ID_MAX];
	struct buf b;

	out[0] = '\0';
	if (strcmp(where, "stripe") == 0)
		text_copy(out, size, c->stripe.portal_login_url);
	else if (strcmp(where, "app_store") == 0)
		text_copy(out, size, APP_STORE_MANAGE);
	else if (strcmp(where, "google_play") == 0) {
		/* One subscription's page needs both; without them, the list of all of them. */
		text_copy(out, size, GOOGLE_PLAY_MANAGE);
		if (c->google.package_name[0] == '\0' || !play_sku(c, r, sku, sizeof(sku)))
			return;
		buf_init_fixed(&b, out, size);
		buf_puts(&b, GOOGLE_PLAY_MANAGE "?sku=");
		escape(&b, sku);
		buf_puts(&b, "&package=");
		escape(&b, c->google.package_name);
		if (b.err != TERR_OK)
			text_copy(out, size, GOOGLE_PLAY_MANAGE);
	}
}

/* Renewed by someone at the period end: a store, a provider's subscription, or the balance. */
static int
renews_itself(const struct sub_row *r)
{
	if (strcmp(r->provider, "app") == 0)
		return 0; /* tally's own trial: no card, it ends unless a purchase converts it */
	if (strcmp(r->provider, "balance") == 0)
		return 1; /* the renewals job buys it again while the balance covers it */
	return strncmp(r->ext_id, "plan:", 5) != 0; /* a direct provider's plan paid once */
}

void
sub_detail(const struct sub_row *r, const struct cfg *c, int64_t now, struct sub_detail *d)
{
	int access = sub_has_access(r, &c->policy, now);

	memset(d, 0, sizeof(*d));
	d->canceled_at_period_end =
	    access && (r->state == SUB_CANCELED || r->cancel_at_period_end != 0);
	d->will_renew = access && (r->state == SUB_ACTIVE || r->state == SUB_TRIALING) &&
	    !d->canceled_at_period_end && renews_itself(r);
	if (r->state == SUB_PAST_DUE) {
		d->problem = access ? "grace" : "retry";
		d->problem_ends_at = sub_access_end(r, &c->policy);
	}
	if (r->state == SUB_TRIALING && access) {
		d->in_trial = 1;
		d->trial_ends_at = r->trial_end != 0 ? r->trial_end : r->period_end;
	}
	d->managed_in = managed_in(r);
	manage_url(r, c, d->managed_in, d->manage_url, sizeof(d->manage_url));
}
