/*
 * tally-reconcile: the events Stripe kept that the inbox lacks, and stale
 * Stripe subscriptions (reconcile.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "crypto/crypto.h"
#include "job/reconcile.h"
#include "job/reconcile_int.h"
#include "job/reconcile_stripe.h"
#include "providers/stripe/stripe.h"
#include "providers/stripe/stripe_sync.h"

/* How far back Stripe keeps its events. */
#define STRIPE_BACK (30 * RECONCILE_DAY_MS)

/* ------------------------------------------------------------------ stripe */

/* A fetched subscription compared with tally's row; applied when they differ. */
static int
stripe_compare(struct job *j, const struct sub_row *row, const char *sub_json, struct bev *e)
{
	unsigned char h[SHA256_LEN];
	char id[ID_MAX], hex[33], why[REASON_MAX], tally[96], theirs[96], subject[ID_MAX + 32];
	struct buf body;
	int differs;

	crypto_sha256(sub_json, strlen(sub_json), h);
	text_hex(h, 16, hex);
	snprintf(id, sizeof(id), "reconcile:%.200s:%s", row->ext_id, hex);
	buf_init(&body, BODY_MAX);
	if (stripe_sync_event(id, j->now, sub_json, &body) != TERR_OK ||
	    stripe_parse(&j->cfg, buf_cstr(&body), body.len, e, why, sizeof(why)) != TERR_OK) {
		job_fail(j, "stripe subscription %s: Stripe's answer cannot be read", row->ext_id);
		buf_release(&body);
		return 0;
	}
	snprintf(subject, sizeof(subject), "subscription %lld (%s)", (long long)row->id,
	    row->ext_id);
	reconcile_describe(row->state, row->period_end, row->cancel_at_period_end, tally,
	    sizeof(tally));
	reconcile_describe(e->sub.state, e->sub.period_end, e->sub.cancel_at_period_end, theirs,
	    sizeof(theirs));
	differs = reconcile_differs(row, e);
	if (!differs) {
		job_count(j, "stripe.in_sync", 1);
		buf_release(&body);
		return 0;
	}
	reconcile_drift(j, "stripe", subject, row->user, tally, theirs, "found", NULL);
	differs =
	    job_apply_raw(j, "stripe", buf_cstr(&body), body.len, "stripe subscription", subject);
	buf_release(&body);
	return differs;
}

void
reconcile_stripe(struct job *j, int64_t last_ok)
{
	struct buf events;
	struct reconcile_stale st = { "stripe", NULL, 0, 0 };
	struct buf *subs = NULL;
	struct bev *e = NULL;
	char why[512];
	size_t i, n, end, line;
	enum terr rc;

	buf_init(&events, STRIPE_SYNC_TEXT_MAX);
	rc = stripe_sync_events(&j->cfg, reconcile_since(j, last_ok, STRIPE_BACK), &events, &n, why,
	    sizeof(why));
	if (rc != TERR_OK) {
		reconcile_result(j, "stripe", why);
		goto out;
	}
	job_count(j, "stripe.events_fetched", (int64_t)n);
	/* Newest first in the text: applied from its end, oldest first. */
	for (end = events.len; end > 0 && !j->stop; end = line) {
		for (line = end - 1; line > 0 && events.p[line - 1] != '\n'; line--)
			;
		if (job_apply_raw(j, "stripe", events.p + line, end - 1 - line, "stripe event",
			"event") != 0)
			goto out;
	}
	if (job_flush(j) != 0 || reconcile_stale_subs(j, &st) != 0)
		goto out;
	/* Every subscription fetched before any is applied: an unreachable Stripe changes nothing. */
	if (st.n > 0 &&
	    ((subs = calloc(st.n, sizeof(*subs))) == NULL || (e = malloc(sizeof(*e))) == NULL)) {
		job_fail(j, "out of memory");
		goto out;
	}
	for (i = 0; i < st.n; i++) {
		buf_init(&subs[i], BODY_MAX / 2);
		j->done++;
		rc = stripe_sync_subscription(&j->cfg, st.rows[i].ext_id, &subs[i], why,
		    sizeof(why));
		if (rc == TERR_NOTFOUND) {
			char subject[ID_MAX + 32], tally[96];
			snprintf(subject, sizeof(subject), "subscription %lld (%s)",
			    (long long)st.rows[i].id, st.rows[i].ext_id);
			reconcile_describe(st.rows[i].state, st.rows[i].period_end,
			    st.rows[i].cancel_at_period_end, tally, sizeof(tally));
			reconcile_drift(j, "stripe", subject, st.rows[i].user, tally,
			    "no such subscription", "reported", NULL);
			buf_reset(&subs[i]);
			continue;
		}
		if (rc != TERR_OK) {
			reconcile_result(j, "stripe", why);
			goto out;
		}
		if (job_tick(j) != 0)
			goto out;
	}
	for (i = 0; i < st.n && !j->stop; i++)
		if (subs[i].len > 0 && stripe_compare(j, &st.rows[i], buf_cstr(&subs[i]), e) != 0)
			goto out;
	if (job_flush(j) == 0 && !j->stop)
		reconcile_result(j, "stripe", NULL);
out:
	if (subs != NULL)
		for (i = 0; i < st.n; i++)
			buf_release(&subs[i]);
	free(subs);
	free(e);
	free(st.rows);
	buf_release(&events);
}
