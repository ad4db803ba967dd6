/*
 * bin/tally: App Store commands over the App Store Server API.
 *
 *   apple status ORIGINAL_TRANSACTION_ID [--history] [--sandbox] [--json]
 *     What Apple says of the subscription next to what tally has; with
 *     --history every transaction and whether tally recorded its payment.
 *     Exit 0 when they agree, 1 when they differ or the call failed.
 *
 *   apple missed --since TIME|AGE [--until TIME] [--only-failures]
 *                [--sandbox] [--dry-run] [--json]
 *     Fetch every page of Apple's notification history for the window
 *     first (a failure part-way applies nothing), verify each notification,
 *     and apply those the inbox lacks through the same path as the webhook.
 *     AGE is a duration back from now ("48h", "7d").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "cli.h"
#include "core/apply.h"
#include "crypto/jose.h"
#include "providers/appstore/appstore_api.h"

/* Events applied in one transaction by `apple missed`. */
#define MISSED_BATCH 64

static int
api_open(struct cli *c, struct appstore_api **a)
{
	char why[512];

	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if (appstore_api_new(a, &c->cfg, cli_flag(c, "sandbox"), why, sizeof(why)) != TERR_OK)
		return cli_fail("App Store Server API", why);
	return 0;
}

/* Does tally's record of the subscription say what Apple says? */
static int
agrees(const struct appstore_status *st, const struct sub_row *r, int found)
{
	if (!found)
		return 0;
	if (st->expires != 0 && r->period_end != st->expires)
		return 0;
	switch (st->status) {
	case 1:
		return r->state == SUB_ACTIVE || r->state == SUB_TRIALING ||
		    r->state == SUB_CANCELED;
	case 2:
		return r->state == SUB_EXPIRED || r->state == SUB_REFUNDED ||
		    r->state == SUB_REVOKED;
	case 3:
	case 4: return r->state == SUB_PAST_DUE;
	case 5: return r->state == SUB_REVOKED || r->state == SUB_REFUNDED;
	default: return 0;
	}
}

static void
status_json(struct jw *w, const struct appstore_status *st, const struct sub_row *r, int found)
{
	jw_obj(w);
	jw_kstr(w, "original_transaction_id", st->original_id);
	jw_kstr(w, "group", st->group);
	jw_key(w, "apple");
	jw_obj(w);
	jw_kstr(w, "status", appstore_status_str(st->status));
	jw_kstr(w, "product", st->product);
	jw_ktime(w, "expires", st->expires);
	if (st->auto_renew >= 0)
		jw_kbool(w, "auto_renew", st->auto_renew);
	jw_kstr(w, "auto_renew_product", st->next_product);
	jw_ktime(w, "grace_until", st->grace_until);
	jw_end(w);
	jw_key(w, "tally");
	if (found) {
		jw_obj(w);
		jw_kstr(w, "user", r->user);
		jw_kstr(w, "state", sub_state_str(r->state));
		jw_kstr(w, "product", r->product);
		jw_ktime(w, "period_end", r->period_end);
		jw_end(w);
	} else
		jw_null(w);
	jw_kbool(w, "agree", agrees(st, r, found));
	jw_end(w);
}

static void
status_text(const struct appstore_status *st, const struct sub_row *r, int found)
{
	char exp[TM_ISO_SIZE], end[TM_ISO_SIZE];

	tm_iso(st->expires, exp);
	printf("subscription %s (group %s)\n", st->original_id, st->group);
	printf("  Apple: %s, %s, expires %s, auto-renew %s%s%s\n", appstore_status_str(st->status),
	    st->product, st->expires ? exp : "-",
	    st->auto_renew < 0   ? "?"
		: st->auto_renew ? "on"
				 : "off",
	    st->next_product[0] && strcmp(st->next_product, st->product) != 0 ? " as " : "",
	    st->next_product[0] && strcmp(st->next_product, st->product) != 0 ? st->next_product
									      : "");
	if (found) {
		tm_iso(r->period_end, end);
		printf("  tally: %s, user %s, period end %s\n", sub_state_str(r->state), r->user,
		    r->period_end ? end : "-");
	} else
		printf("  tally: no such subscription\n");
	printf("  %s\n", agrees(st, r, found) ? "agree" : "DIFFER");
}

/* One transaction of the history, with what tally recorded of its payment; 1 when recorded. */
static int
history_item(struct cli *c, struct jw *w, const char *payload)
{
	cJSON *tx = NULL;
	const char *jwhy, *id, *product, *type;
	struct pay_row p;
	char when[TM_ISO_SIZE];
	int64_t at = 0, revoked = 0;
	int known;

	if (json_parse(payload, strlen(payload), JSON_DEPTH_MAX, &tx, &jwhy) != TERR_OK)
		return 0;
	id = jstr(tx, "transactionId");
	product = jstr(tx, "productId");
	type = jstr(tx, "type");
	jint(tx, "purchaseDate", &at);
	jint(tx, "revocationDate", &revoked);
	known = id != NULL && store_pay_find_key(c->s, "apple", id, &p) == TERR_OK;
	if (c->json) {
		jw_obj(w);
		jw_kstr(w, "transaction_id", id);
		jw_kstr(w, "product", product);
		jw_kstr(w, "type", type);
		jw_ktime(w, "purchased", at);
		jw_ktime(w, "revoked", revoked);
		jw_kbool(w, "recorded", known);
		if (known)
			jw_kstr(w, "payment_state", pay_state_str(p.state));
		jw_end(w);
	} else {
		tm_iso(at, when);
		printf("  %s %s %s %s%s: %s\n", when, id != NULL ? id : "?",
		    product != NULL ? product : "?", type != NULL ? type : "",
		    revoked ? " (revoked)" : "",
		    known ? pay_state_str(p.state) : "NOT RECORDED by tally");
	}
	cJSON_Delete(tx);
	return known;
}

int
cmd_apple_status(struct cli *c)
{
	struct appstore_api *a = NULL;
	struct appstore_status *st = NULL;
	struct appstore_list hist = { 0 };
	struct sub_row r;
	struct buf out;
	struct jw w;
	char why[512];
	size_t n = 0, i;
	int ret = 1, differ = 0, found;
	enum terr rc;

	if (c->npos != 1 || !text_id_valid(c->pos[0], ID_MAX - 1))
		return cli_usage();
	if (api_open(c, &a) != 0)
		return 1;
	buf_init(&out, OUT_MAX);
	if ((st = calloc(APPSTORE_STATUS_MAX, sizeof(*st))) == NULL) {
		cli_fail("out of memory", NULL);
		goto out;
	}
	rc = appstore_api_statuses(a, c->pos[0], c->now, st, APPSTORE_STATUS_MAX, &n, why,
	    sizeof(why));
	if (rc != TERR_OK) {
		cli_fail("apple status", why);
		goto out;
	}
	if (cli_flag(c, "history") &&
	    appstore_api_history(a, c->pos[0], c->now, &hist, why, sizeof(why)) != TERR_OK) {
		cli_fail("apple status: transaction history", why);
		goto out;
	}
	jw_init(&w, &out);
	if (c->json) {
		jw_obj(&w);
		jw_kstr(&w, "environment", cli_flag(c, "sandbox") ? "Sandbox" : "Production");
		jw_key(&w, "subscriptions");
		jw_arr(&w);
	}
	for (i = 0; i < n; i++) {
		found = store_sub_find(c->s, "apple", st[i].original_id, &r) == TERR_OK;
		differ += !agrees(&st[i], &r, found);
		if (c->json)
			status_json(&w, &st[i], &r, found);
		else
			status_text(&st[i], &r, found);
	}
	if (n == 0 && !c->json)
		printf("Apple reports no subscription for %s\n", c->pos[0]);
	if (cli_flag(c, "history")) {
		if (c->json) {
			jw_aend(&w);
			jw_key(&w, "history");
			jw_arr(&w);
		} else
			printf("history (%zu transactions):\n", hist.n);
		for (i = 0; i < hist.n; i++)
			differ += !history_item(c, &w, hist.v[i]);
	}
	if (c->json) {
		jw_aend(&w);
		jw_kbool(&w, "agree", differ == 0);
		jw_end(&w);
		buf_putc(&out, '\n');
		cli_outb(&out);
	}
	ret = differ == 0 ? 0 : 1;
out:
	appstore_list_release(&hist);
	appstore_statuses_release(st, n);
	free(st);
	buf_release(&out);
	appstore_api_free(a);
	return ret;
}

/* --since: an RFC 3339 time, or a duration back from now. */
static int
since_arg(const struct cli *c, const char *s, int64_t *ms)
{
	int64_t d;

	if (tm_parse(s, ms) == TERR_OK)
		return 1;
	if (tm_parse_duration(s, &d) == TERR_OK && d > 0 && d < c->now) {
		*ms = c->now - d;
		return 1;
	}
	return 0;
}

struct missed {
	struct bev *ev;
	struct apply_result *res;
	struct buf *bodies;
	size_t n;
	int64_t applied, skipped, refused, stored;
};

static void
report(struct cli *c, struct jw *w, const struct bev *e, const char *what, const char *reason)
{
	if (c->json) {
		jw_obj(w);
		jw_kstr(w, "notification", e->id);
		jw_kstr(w, "type", e->type);
		jw_kstr(w, "result", what);
		jw_kstr(w, "reason", reason);
		jw_end(w);
	} else
		printf("%s %s: %s%s%s\n", e->id, e->type, what, reason[0] ? ": " : "", reason);
}

/* Apply the queued events in one transaction and report each. */
static enum terr
flush(struct cli *c, struct jw *w, struct missed *m)
{
	size_t i;
	enum terr rc;

	if (m->n == 0)
		return TERR_OK;
	if (!cli_flag(c, "dry-run")) {
		rc = apply_batch(c->s, &c->cfg, m->ev, m->n, m->res, c->now);
		if (rc != TERR_OK)
			return rc;
	}
	for (i = 0; i < m->n; i++) {
		if (cli_flag(c, "dry-run"))
			report(c, w, &m->ev[i], "would apply", "");
		else if (m->res[i].duplicate)
			report(c, w, &m->ev[i], "already stored", "");
		else {
			report(c, w, &m->ev[i], inbox_state_str(m->res[i].state), m->res[i].reason);
			m->applied++;
		}
		buf_reset(&m->bodies[i]);
	}
	m->stored += (int64_t)m->n;
	m->n = 0;
	return TERR_OK;
}

int
cmd_apple_missed(struct cli *c)
{
	struct appstore_api *a = NULL;
	struct appstore_list list = { 0 };
	struct missed m;
	struct inbox_row row;
	struct buf out;
	struct jw w;
	const char *s;
	char why[512];
	int64_t since = 0, until;
	size_t i;
	int ret = 1;
	enum terr rc;

	memset(&m, 0, sizeof(m));
	until = c->now;
	if (c->npos != 0 || (s = cli_opt(c, "since")) == NULL || !since_arg(c, s, &since))
		return cli_bad_arg("apple missed takes --since TIME (2026-11-01T00:00:00Z) or AGE "
				   "(48h, 7d)",
		    cli_opt(c, "since"));
	if ((s = cli_opt(c, "until")) != NULL && (tm_parse(s, &until) != TERR_OK || until <= since))
		return cli_bad_arg("--until takes a time after --since", s);
	if (api_open(c, &a) != 0)
		return 1;
	buf_init(&out, OUT_MAX);
	m.ev = calloc(MISSED_BATCH, sizeof(*m.ev));
	m.res = calloc(MISSED_BATCH, sizeof(*m.res));
	m.bodies = calloc(MISSED_BATCH, sizeof(*m.bodies));
	if (m.ev == NULL || m.res == NULL || m.bodies == NULL) {
		cli_fail("out of memory", NULL);
		goto out;
	}
	for (i = 0; i < MISSED_BATCH; i++)
		buf_init(&m.bodies[i], JOSE_TOKEN_MAX + 64);
	/* Every page first: a failure part-way leaves nothing applied. */
	rc = appstore_api_notifications(a, since, until, cli_flag(c, "only-failures"), c->now,
	    &list, why, sizeof(why));
	if (rc != TERR_OK) {
		cli_fail("apple missed: nothing applied", why);
		goto out;
	}
	jw_init(&w, &out);
	if (c->json) {
		jw_obj(&w);
		jw_kint(&w, "fetched", (int64_t)list.n);
		jw_key(&w, "notifications");
		jw_arr(&w);
	}
	for (i = 0; i < list.n; i++) {
		struct buf *body = &m.bodies[m.n];
		struct bev *e = &m.ev[m.n];
		char perr[REASON_MAX];
		buf_reset(body);
		buf_puts(body, "{\"signedPayload\":");
		json_escape(body, list.v[i], strlen(list.v[i]));
		buf_putc(body, '}');
		if (body->err != TERR_OK ||
		    appstore_parse(&c->cfg, buf_cstr(body), body->len, e, perr, sizeof(perr)) !=
			TERR_OK) {
			m.refused++;
			if (!c->json)
				printf("notification %zu of the history cannot be read: %s\n",
				    i + 1, body->err != TERR_OK ? "too large" : perr);
			continue;
		}
		if (store_inbox_find(c->s, e->provider, e->id, &row) == TERR_OK) {
			m.skipped++;
			continue;
		}
		if (++m.n == MISSED_BATCH && (rc = flush(c, &w, &m)) != TERR_OK)
			break;
	}
	if (rc == TERR_OK)
		rc = flush(c, &w, &m);
	if (rc != TERR_OK) {
		cli_outb(&out);
		cli_fail("apple missed: storage failed; run it again", err_str(rc));
		goto out;
	}
	if (c->json) {
		jw_aend(&w);
		jw_kint(&w, "already_in_inbox", m.skipped);
		jw_kint(&w, "applied", m.applied);
		jw_kint(&w, "unreadable", m.refused);
		jw_kbool(&w, "dry_run", cli_flag(c, "dry-run"));
		jw_end(&w);
		buf_putc(&out, '\n');
	}
	cli_outb(&out);
	if (!c->json)
		printf("%zu notifications from Apple: %lld already in the inbox, %lld %s, %lld "
		       "unreadable\n",
		    list.n, (long long)m.skipped,
		    (long long)(cli_flag(c, "dry-run") ? m.stored : m.applied),
		    cli_flag(c, "dry-run") ? "to apply" : "applied", (long long)m.refused);
	ret = m.refused == 0 ? 0 : 1;
out:
	if (m.bodies != NULL)
		for (i = 0; i < MISSED_BATCH; i++)
			buf_release(&m.bodies[i]);
	free(m.bodies);
	free(m.ev);
	free(m.res);
	appstore_list_release(&list);
	buf_release(&out);
	appstore_api_free(a);
	return ret;
}
