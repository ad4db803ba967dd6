/*
 * tally-reconcile: Apple's notification history that the inbox lacks, and
 * the statuses of stale Apple subscriptions (reconcile.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/tm.h"
#include "job/reconcile.h"
#include "job/reconcile_appstore.h"
#include "job/reconcile_int.h"
#include "providers/appstore/appstore_api.h"

/* How far back Apple's Get Notification History reaches. */
#define APPLE_BACK (180 * RECONCILE_DAY_MS)

/* ------------------------------------------------------------------- apple */

/* Get Notification History of one environment, applied. 0, or -1 (its line says why). */
static int
apple_env(struct job *j, int sandbox, int64_t since, int report_ok)
{
	const char *name = sandbox ? "apple sandbox" : "apple";
	struct appstore_api *a = NULL;
	struct appstore_list list = { 0 };
	struct buf body;
	char why[512];
	size_t i;
	int64_t wall = tm_now_ms();
	int ret = -1;

	if (appstore_api_new(&a, &j->cfg, sandbox, why, sizeof(why)) != TERR_OK) {
		reconcile_result(j, name, why);
		return -1;
	}
	/* Apple's clock, not --now: the JWT's iat and the window's end are checked against it. */
	if (appstore_api_notifications(a, since < wall ? since : wall - RECONCILE_DAY_MS, wall, 0,
		wall, &list, why, sizeof(why)) != TERR_OK) {
		reconcile_result(j, name, why);
		goto out;
	}
	job_count(j, sandbox ? "apple.sandbox_fetched" : "apple.fetched", (int64_t)list.n);
	buf_init(&body, BODY_MAX);
	for (i = 0; i < list.n && !j->stop; i++) {
		buf_reset(&body);
		buf_puts(&body, "{\"signedPayload\":");
		json_escape(&body, list.v[i], strlen(list.v[i]));
		buf_putc(&body, '}');
		if (job_apply_raw(j, "apple", buf_cstr(&body), body.len, "apple notification",
			"notification") != 0)
			break;
	}
	buf_release(&body);
	if (job_flush(j) == 0 && !j->stop) {
		ret = 0;
		if (report_ok)
			reconcile_result(j, name, NULL);
	}
out:
	appstore_list_release(&list);
	appstore_api_free(a);
	return ret;
}

/*
 * Apple's status of one subscription as tally's envelope (appstore.h):
 * {"tally_status": {status, originalTransactionId, environment},
 * "signedTransactionInfo", "signedRenewalInfo"}, the JWS as Apple sent them.
 */
static enum terr
apple_envelope(const struct appstore_status *st, struct buf *body)
{
	buf_reset(body);
	buf_printf(body, "{\"tally_status\":{\"status\":%d,\"originalTransactionId\":", st->status);
	json_escape(body, st->original_id, strlen(st->original_id));
	buf_puts(body, ",\"environment\":");
	json_escape(body, st->environment, strlen(st->environment));
	buf_puts(body, "},\"signedTransactionInfo\":");
	json_escape(body, st->signed_tx, strlen(st->signed_tx));
	if (st->signed_renewal != NULL) {
		buf_puts(body, ",\"signedRenewalInfo\":");
		json_escape(body, st->signed_renewal, strlen(st->signed_renewal));
	}
	buf_putc(body, '}');
	return body->err;
}

static void
apple_subject(const struct sub_row *row, char *subject, size_t ssize, char *tally, size_t tsize)
{
	snprintf(subject, ssize, "subscription %lld (%s)", (long long)row->id, row->ext_id);
	reconcile_describe(row->state, row->period_end, row->cancel_at_period_end, tally, tsize);
}

/*
 * One stale subscription's status at Apple into body (left empty when
 * there is nothing to apply: reported). 0, or -1 with why (nothing applied).
 */
static int
apple_fetch_status(struct job *j, struct appstore_api *a, const struct sub_row *row,
    struct appstore_status *got, struct buf *body, struct bev *e, char *why, size_t whysize)
{
	char subject[ID_MAX + 32], tally[96], pwhy[REASON_MAX];
	size_t n = 0, k;
	enum terr rc;
	int ret = -1, keep = 0;

	buf_reset(body);
	apple_subject(row, subject, sizeof(subject), tally, sizeof(tally));
	/* Apple's clock, not --now, for the JWT (as apple_env). */
	rc = appstore_api_statuses(a, row->ext_id, tm_now_ms(), got, APPSTORE_STATUS_MAX, &n, why,
	    whysize);
	if (rc == TERR_NOTFOUND) {
		reconcile_drift(j, "apple", subject, row->user, tally, "no such subscription",
		    "reported", NULL);
		return 0;
	}
	if (rc != TERR_OK)
		return -1;
	/* The subscription's own item: Get All Subscription Statuses answers every group. */
	for (k = 0; k < n && strcmp(got[k].original_id, row->ext_id) != 0; k++)
		;
	if (k == n) {
		reconcile_drift(j, "apple", subject, row->user, tally,
		    "no status for this original transaction", "reported", NULL);
		ret = 0;
	} else if (got[k].status == 0) {
		reconcile_drift(j, "apple", subject, row->user, tally,
		    "a status tally does not know", "reported", NULL);
		ret = 0;
	} else if (apple_envelope(&got[k], body) != TERR_OK) {
		snprintf(why, whysize, "Apple's status of %.64s is larger than the largest body",
		    row->ext_id);
	} else if (appstore_parse(&j->cfg, buf_cstr(body), body->len, e, pwhy, sizeof(pwhy)) !=
	    TERR_OK) {
		snprintf(why, whysize, "Apple's status of %.64s cannot be read: %.300s",
		    row->ext_id, pwhy);
	} else if (!(e->aspects & BEV_SUB) || strcmp(e->sub.id, row->ext_id) != 0) {
		snprintf(why, whysize, "Apple's status of %.64s names another subscription",
		    row->ext_id);
	} else {
		ret = 0;
		keep = 1;
	}
	if (!keep)
		buf_reset(body);
	appstore_statuses_release(got, n);
	return ret;
}

/*
 * Stale Apple subscriptions, oldest first: Get All Subscription Statuses of
 * each (Production, or Sandbox for a Sandbox subscription when
 * apple.sandbox), every one fetched and verified first; those whose status
 * differs applied as tally's status envelope. 0, or -1 (the "apple" line
 * says why; nothing applied).
 */
static int
apple_statuses(struct job *j)
{
	struct reconcile_stale st = { "apple", NULL, 0, 0 };
	struct appstore_api *api[2] = { NULL, NULL };
	struct appstore_status *got = NULL;
	struct buf *bodies = NULL;
	struct bev *e = NULL;
	char why[512], subject[ID_MAX + 32], tally[96], theirs[96];
	size_t i, fetched = 0;
	int ret = -1, sandbox;

	why[0] = '\0';
	if (reconcile_stale_subs(j, &st) != 0) {
		if (!j->stop)
			job_fail(j, "out of memory");
		goto out;
	}
	if (st.n > 0 &&
	    ((bodies = calloc(st.n, sizeof(*bodies))) == NULL ||
		(got = calloc(APPSTORE_STATUS_MAX, sizeof(*got))) == NULL ||
		(e = malloc(sizeof(*e))) == NULL)) {
		job_fail(j, "out of memory");
		goto out;
	}
	for (i = 0; i < st.n; i++)
		buf_init(&bodies[i], BODY_MAX);
	/* Every status fetched and read before anything is applied. */
	for (i = 0; i < st.n; i++) {
		const struct sub_row *row = &st.rows[i];
		sandbox = !row->live;
		j->done++;
		if (sandbox && !j->cfg.apple.sandbox) {
			apple_subject(row, subject, sizeof(subject), tally, sizeof(tally));
			reconcile_drift(j, "apple", subject, row->user, tally, "not checked",
			    "reported", "a Sandbox subscription while apple.sandbox is off");
			continue;
		}
		if (api[sandbox] == NULL &&
		    appstore_api_new(&api[sandbox], &j->cfg, sandbox, why, sizeof(why)) != TERR_OK)
			goto failed;
		if (apple_fetch_status(j, api[sandbox], row, got, &bodies[i], e, why,
			sizeof(why)) != 0)
			goto failed;
		fetched++;
		if (job_tick(j) != 0)
			goto out;
	}
	job_count(j, "apple.statuses_fetched", (int64_t)fetched);
	for (i = 0; i < st.n && !j->stop; i++) {
		const struct sub_row *row = &st.rows[i];
		char pwhy[REASON_MAX];
		if (bodies[i].len == 0)
			continue;
		/* Read before (apple_fetch_status): it reads the same again. */
		if (appstore_parse(&j->cfg, buf_cstr(&bodies[i]), bodies[i].len, e, pwhy,
			sizeof(pwhy)) != TERR_OK)
			continue;
		apple_subject(row, subject, sizeof(subject), tally, sizeof(tally));
		reconcile_describe(e->sub.state, e->sub.period_end, e->sub.cancel_at_period_end,
		    theirs, sizeof(theirs));
		if (!reconcile_differs(row, e)) {
			job_count(j, "apple.in_sync", 1);
			continue;
		}
		reconcile_drift(j, "apple", subject, row->user, tally, theirs, "found", NULL);
		if (job_apply_raw(j, "apple", buf_cstr(&bodies[i]), bodies[i].len,
			"apple subscription", subject) != 0)
			goto out;
	}
	if (job_flush(j) == 0 && !j->stop)
		ret = 0;
	goto out;
failed:
	if (!j->stop)
		reconcile_result(j, "apple", why[0] != '\0' ? why : "failed");
out:
	for (i = 0; bodies != NULL && i < st.n; i++)
		buf_release(&bodies[i]);
	free(bodies);
	free(got);
	free(e);
	free(st.rows);
	appstore_api_free(api[0]);
	appstore_api_free(api[1]);
	return ret;
}

void
reconcile_apple(struct job *j, int64_t last_ok)
{
	int64_t since = reconcile_since(j, last_ok, APPLE_BACK);
	int prod;

	prod = apple_env(j, 0, since, 0);
	if (j->cfg.apple.sandbox && !j->stop)
		apple_env(j, 1, since, 1);
	/* The "apple" line covers Production's notifications and every status. */
	if (prod == 0 && !j->stop && apple_statuses(j) == 0 && !j->stop)
		reconcile_result(j, "apple", NULL);
}
