/*
 * bin/tally: Google Play commands over the Android Publisher API.
 *
 *   google status TOKEN [--product ID] [--json]
 *     Google's answer for the purchase token now (subscriptionsv2.get, or
 *     products.get of the one-time product ID with --product) beside what
 *     tally has stored of it: the subscription and its user, the link of
 *     the token, the payment of the order Google names. The answer is read
 *     through the webhook's own mapping (google_map.h), so "would change"
 *     says what applying it would do: the subscription's state, period end
 *     and ending, the payment tally has not recorded. Nothing is applied
 *     (tally-reconcile --provider google applies drift). Exit 0 when tally
 *     agrees with Google, 1 when they differ or the call failed, 2 usage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/money.h"
#include "base/text.h"
#include "base/tm.h"
#include "cli.h"
#include "core/sub.h"
#include "providers/google/google.h"
#include "providers/google/google_api.h"
#include "providers/google/google_fetch.h"
#include "providers/google/google_push.h"

#define CHANGES_MAX 8
#define CHANGE_SIZE 320

/* What tally has of the purchase, and what Google's answer would change. */
struct gstatus {
	const char *token;
	const char *product; /* --product, or NULL: a subscription */
	int status;          /* Google's HTTP status */
	cJSON *answer;       /* Google's answer, parsed (NULL unless 200) */
	struct bev *e;       /* the answer as tally reads it */
	struct sub_row sub;
	int have_sub;
	char link_user[USER_ID_MAX + 1]; /* the user the token is linked to, or "" */
	struct pay_row pay[PAY_KEYS_MAX];
	int have_pay[PAY_KEYS_MAX]; /* for e->pay.keys.k[i] */
	char changes[CHANGES_MAX][CHANGE_SIZE];
	size_t nchanges;
	int agree;
};

static void change(struct gstatus *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
change(struct gstatus *g, const char *fmt, ...)
{
	va_list ap;

	if (g->nchanges == CHANGES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(g->changes[g->nchanges++], CHANGE_SIZE, fmt, ap);
	va_end(ap);
}

static void
when(int64_t ms, char out[TM_ISO_SIZE])
{
	if (ms == 0)
		snprintf(out, TM_ISO_SIZE, "-");
	else
		tm_iso(ms, out);
}

/* What tally has: the subscription (by the token), the token's link, the payments. 0, or 1. */
static int
stored(struct cli *c, struct gstatus *g)
{
	enum terr rc;
	size_t i;

	rc = store_sub_find(c->s, "google", g->token, &g->sub);
	if (rc != TERR_OK && rc != TERR_NOTFOUND)
		return cli_fail("storage failed", err_str(rc));
	g->have_sub = g->product == NULL && rc == TERR_OK;
	rc = store_link_find(c->s, "google", "purchase_token", g->token, g->link_user);
	if (rc == TERR_NOTFOUND)
		g->link_user[0] = '\0';
	else if (rc != TERR_OK)
		return cli_fail("storage failed", err_str(rc));
	for (i = 0; (g->e->aspects & BEV_PAY) && i < g->e->pay.keys.n; i++) {
		rc = store_pay_find_key(c->s, "google", g->e->pay.keys.k[i], &g->pay[i]);
		if (rc != TERR_OK && rc != TERR_NOTFOUND)
			return cli_fail("storage failed", err_str(rc));
		g->have_pay[i] = rc == TERR_OK;
	}
	return 0;
}

/* What applying the answer would change; g->agree when nothing. */
static void
compare(struct cli *c, struct gstatus *g)
{
	const struct bev *e = g->e;
	char a[TM_ISO_SIZE], b[TM_ISO_SIZE], amount[MONEY_TEXT_SIZE];
	size_t i;
	int recorded = 0;

	if (g->status != 200) {
		/* Google keeps nothing of it: tally is right only if it grants nothing either. */
		change(g, "nothing to apply: Google answered %d", g->status);
		g->agree = !g->have_sub || !sub_state_grants_access(g->sub.state);
		return;
	}
	if (e->refusal[0] != '\0') {
		change(g, "nothing applied: %s", e->refusal);
		g->agree = 0;
		return;
	}
	if (!e->live && !c->cfg.google.test_mode)
		change(g,
		    "a license tester's purchase: stored ignored while google.test_mode is off");
	if (e->aspects & BEV_SUB) {
		if (!g->have_sub)
			change(g, "a subscription tally does not have: %s until %s",
			    sub_state_str(e->sub.state), (when(e->sub.period_end, b), b));
		else {
			if (e->sub.state != g->sub.state)
				change(g, "state %s -> %s", sub_state_str(g->sub.state),
				    sub_state_str(e->sub.state));
			if (e->sub.period_end != 0 && e->sub.period_end != g->sub.period_end) {
				when(g->sub.period_end, a);
				when(e->sub.period_end, b);
				change(g, "period end %s -> %s", a, b);
			}
			if (e->sub.cancel_at_period_end >= 0 &&
			    e->sub.cancel_at_period_end != g->sub.cancel_at_period_end)
				change(g, "ends at period end %s -> %s",
				    g->sub.cancel_at_period_end ? "yes" : "no",
				    e->sub.cancel_at_period_end ? "yes" : "no");
		}
	}
	if (e->aspects & BEV_PAY) {
		for (i = 0; i < e->pay.keys.n; i++)
			recorded |= g->have_pay[i];
		if (!recorded) {
			money_text(e->pay.amount, e->pay.currency, amount, sizeof(amount));
			change(g, "payment %s (%s, %s) to record", e->pay.keys.k[0],
			    pay_kind_str(e->pay.kind), amount);
		}
	}
	g->agree = g->nchanges == 0;
}

/* "a.b.c" of Google's answer as text (strings, numbers, booleans), or NULL. */
static const char *
field(const cJSON *o, const char *path, char *out, size_t size)
{
	char part[64];
	const char *dot;
	const cJSON *v = o;

	while (v != NULL && *path != '\0') {
		dot = strchr(path, '.');
		snprintf(part, sizeof(part), "%.*s", (int)(dot != NULL ? dot - path : 63), path);
		if (cJSON_IsArray(v))
			v = cJSON_GetArrayItem(v, 0);
		v = jget(v, part);
		path = dot != NULL ? dot + 1 : "";
	}
	if (cJSON_IsString(v))
		text_copy(out, size, v->valuestring);
	else if (cJSON_IsBool(v))
		text_copy(out, size, cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNumber(v))
		snprintf(out, size, "%.0f", v->valuedouble);
	else
		return NULL;
	return out;
}

/* The members of Google's answer people ask about, in its own names. */
static const char *const sub_fields[] = { "subscriptionState", "lineItems.productId",
	"lineItems.expiryTime", "lineItems.autoRenewingPlan.autoRenewEnabled",
	"lineItems.latestSuccessfulOrderId", "latestOrderId", "acknowledgementState",
	"externalAccountIdentifiers.obfuscatedExternalAccountId", "linkedPurchaseToken", NULL };
static const char *const product_fields[] = { "purchaseState", "productId", "orderId",
	"purchaseTimeMillis", "quantity", "consumptionState", "acknowledgementState",
	"obfuscatedExternalAccountId", "purchaseType", NULL };

static void
text_report(struct cli *c, const struct gstatus *g)
{
	const char *const *f = g->product != NULL ? product_fields : sub_fields;
	const struct bev *e = g->e;
	char v[ID_MAX], a[TM_ISO_SIZE], b[TM_ISO_SIZE];
	size_t i;

	(void)c;
	printf("purchase token %s (%s%s)\n", g->token,
	    g->product != NULL ? "products.get of " : "subscriptionsv2.get",
	    g->product != NULL ? g->product : "");
	printf("  Google: %d", g->status);
	for (; g->answer != NULL && *f != NULL; f++)
		if (field(g->answer, *f, v, sizeof(v)) != NULL)
			printf(", %s %s", *f, v);
	if (g->answer != NULL && jget(g->answer, "testPurchase") != NULL)
		printf(", testPurchase");
	printf("\n");
	if (g->status == 200 && e->refusal[0] == '\0') {
		printf("  tally reads it as: %s", e->type);
		if (e->aspects & BEV_SUB) {
			when(e->sub.period_end, b);
			printf(", %s%s until %s", sub_state_str(e->sub.state),
			    e->sub.cancel_at_period_end > 0 ? " (ends)" : "", b);
		}
		if (e->aspects & BEV_PAY)
			printf(", payment %s (%s)", e->pay.keys.k[0], pay_kind_str(e->pay.kind));
		if (e->user[0] != '\0')
			printf(", user %s", e->user);
		printf("%s\n", e->live ? "" : ", a license tester's");
	}
	if (g->have_sub) {
		when(g->sub.period_start, a);
		when(g->sub.period_end, b);
		printf("  tally: subscription %lld of user %s: %s%s, product %s, period %s to %s\n",
		    (long long)g->sub.id, g->sub.user, sub_state_str(g->sub.state),
		    g->sub.cancel_at_period_end ? " (ends)" : "", g->sub.product, a, b);
	} else
		printf("  tally: no subscription of this token%s%s\n",
		    g->link_user[0] != '\0' ? "; linked to user " : "", g->link_user);
	for (i = 0; (e->aspects & BEV_PAY) && i < e->pay.keys.n; i++) {
		if (g->have_pay[i])
			printf("  tally: payment %s: %s, %s, user %s\n", e->pay.keys.k[i],
			    pay_state_str(g->pay[i].state), pay_kind_str(g->pay[i].kind),
			    g->pay[i].user);
		else
			printf("  tally: payment %s: not recorded\n", e->pay.keys.k[i]);
	}
	for (i = 0; i < g->nchanges; i++)
		printf("  %s %s\n", i == 0 ? "would change:" : "             ", g->changes[i]);
	printf("  %s\n", g->agree ? "agree" : "DIFFER");
}

static void
json_report(struct cli *c, struct jw *w, const struct gstatus *g, const struct buf *answer)
{
	const struct bev *e = g->e;
	size_t i;

	(void)c;
	jw_obj(w);
	jw_kstr(w, "token", g->token);
	jw_kstr(w, "call", g->product != NULL ? "products" : "subscriptionsv2");
	jw_kstr(w, "product", g->product);
	jw_key(w, "google");
	jw_obj(w);
	jw_kint(w, "status", g->status);
	jw_key(w, "answer");
	if (g->answer != NULL)
		jw_rawn(w, answer->p, answer->len);
	else
		jw_null(w);
	jw_end(w);
	jw_key(w, "reads_as");
	jw_obj(w);
	jw_kstr(w, "type", e->type);
	jw_kbool(w, "live", e->live);
	jw_kstr(w, "refusal", e->refusal[0] != '\0' ? e->refusal : NULL);
	jw_kstr(w, "user", e->user[0] != '\0' ? e->user : NULL);
	if (e->aspects & BEV_SUB) {
		jw_kstr(w, "state", sub_state_str(e->sub.state));
		jw_kstr(w, "product", e->sub.product);
		jw_ktime(w, "period_end", e->sub.period_end);
		if (e->sub.cancel_at_period_end >= 0)
			jw_kbool(w, "cancel_at_period_end", e->sub.cancel_at_period_end);
	}
	if (e->aspects & BEV_PAY) {
		jw_kstr(w, "order", e->pay.keys.k[0]);
		jw_kstr(w, "payment_kind", pay_kind_str(e->pay.kind));
		jw_kint(w, "amount", e->pay.amount);
		jw_kstr(w, "currency", e->pay.currency);
	}
	jw_end(w);
	jw_key(w, "tally");
	jw_obj(w);
	jw_kstr(w, "linked_user", g->link_user[0] != '\0' ? g->link_user : NULL);
	jw_key(w, "subscription");
	if (g->have_sub) {
		jw_obj(w);
		jw_kint(w, "id", g->sub.id);
		jw_kstr(w, "user", g->sub.user);
		jw_kstr(w, "state", sub_state_str(g->sub.state));
		jw_kstr(w, "product", g->sub.product);
		jw_ktime(w, "period_start", g->sub.period_start);
		jw_ktime(w, "period_end", g->sub.period_end);
		jw_kbool(w, "cancel_at_period_end", g->sub.cancel_at_period_end);
		jw_end(w);
	} else
		jw_null(w);
	jw_key(w, "payments");
	jw_arr(w);
	for (i = 0; (e->aspects & BEV_PAY) && i < e->pay.keys.n; i++) {
		jw_obj(w);
		jw_kstr(w, "key", e->pay.keys.k[i]);
		jw_kbool(w, "recorded", g->have_pay[i]);
		if (g->have_pay[i]) {
			jw_kint(w, "id", g->pay[i].id);
			jw_kstr(w, "user", g->pay[i].user);
			jw_kstr(w, "state", pay_state_str(g->pay[i].state));
			jw_kstr(w, "kind", pay_kind_str(g->pay[i].kind));
			jw_kint(w, "amount", g->pay[i].amount);
			jw_kstr(w, "currency", g->pay[i].currency);
		}
		jw_end(w);
	}
	jw_aend(w);
	jw_end(w);
	jw_key(w, "changes");
	jw_arr(w);
	for (i = 0; i < g->nchanges; i++)
		jw_str(w, g->changes[i]);
	jw_aend(w);
	jw_kbool(w, "agree", g->agree);
	jw_end(w);
}

/* Google's answer as tally's envelope (google_push.h), read by the webhook's mapping into g->e. */
static enum terr
read_answer(struct cli *c, struct gstatus *g, const struct buf *answer, struct buf *body)
{
	struct google_envelope env;
	const char *jwhy;
	char why[REASON_MAX];
	enum terr rc;

	memset(&env, 0, sizeof(env));
	env.message_id = "tally-google-status";
	env.fetched_at = c->now;
	env.call = g->product != NULL ? GOOGLE_CALL_PRODUCT : GOOGLE_CALL_SUB;
	env.status = g->status;
	env.token = g->token;
	env.product = g->product;
	env.purchase = answer->len > 0 ? answer->p : NULL;
	env.purchase_n = answer->len;
	if ((rc = google_envelope_write(&env, body)) != TERR_OK)
		return rc;
	if (answer->len > 0 &&
	    json_parse(answer->p, answer->len, JSON_DEPTH_MAX, &g->answer, &jwhy) != TERR_OK)
		g->answer = NULL;
	return google_parse(&c->cfg, buf_cstr(body), body->len, g->e, why, sizeof(why));
}

int
cmd_google_status(struct cli *c)
{
	struct google_api *api = NULL;
	struct gstatus g;
	struct buf answer, body, out;
	struct jw w;
	char why[512];
	int ret = 1;
	enum terr rc;

	memset(&g, 0, sizeof(g));
	if (c->npos != 1 || !text_id_valid(c->pos[0], ID_MAX - 1))
		return cli_usage();
	g.token = c->pos[0];
	g.product = cli_opt(c, "product");
	if (g.product != NULL && !text_id_valid(g.product, ID_MAX - 1))
		return cli_bad_arg("--product takes a one-time product's id", g.product);
	if (cli_open(c, STORE_RO) != 0)
		return 1;
	if (!c->cfg.google.enabled)
		return cli_fail("google status", "the config has no google section");
	if (google_api_new(&c->cfg, &api, why, sizeof(why)) != TERR_OK)
		return cli_fail("Android Publisher API", why);
	buf_init(&answer, GOOGLE_ANSWER_MAX);
	buf_init(&body, BODY_MAX);
	buf_init(&out, OUT_MAX);
	if ((g.e = malloc(sizeof(*g.e))) == NULL) {
		cli_fail("out of memory", NULL);
		goto out;
	}
	rc = google_fetch(api, g.product != NULL ? GOOGLE_CALL_PRODUCT : GOOGLE_CALL_SUB, g.product,
	    g.token, &answer, &g.status, why, sizeof(why));
	if (rc != TERR_OK) {
		cli_fail("google status", why);
		goto out;
	}
	if (read_answer(c, &g, &answer, &body) != TERR_OK) {
		cli_fail("google status", "Google's answer is larger than the largest body");
		goto out;
	}
	if (stored(c, &g) != 0)
		goto out;
	compare(c, &g);
	if (c->json) {
		jw_init(&w, &out);
		json_report(c, &w, &g, &answer);
		buf_putc(&out, '\n');
		cli_outb(&out);
	} else
		text_report(c, &g);
	ret = g.agree ? 0 : 1;
out:
	cJSON_Delete(g.answer);
	free(g.e);
	buf_release(&answer);
	buf_release(&body);
	buf_release(&out);
	google_api_free(api);
	return ret;
}
