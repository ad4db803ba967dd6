/*
 * tally-reconcile: Google Play's voided purchases that tally has not
 * refunded, and Google subscriptions whose state may have drifted
 * (reconcile_google.h). What is applied is tally's Google envelope
 * (google_push.h), parsed by the webhook's own mapping (google_map.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "crypto/crypto.h"
#include "job/reconcile.h"
#include "job/reconcile_google.h"
#include "job/reconcile_int.h"
#include "providers/google/google.h"
#include "providers/google/google_api.h"
#include "providers/google/google_fetch.h"
#include "providers/google/google_push.h"
#include "store/store_credits.h"

#define VOIDED_BACK_MS ((int64_t)GOOGLE_VOIDED_WINDOW_DAYS * RECONCILE_DAY_MS)

struct gpass {
	struct job *j;
	struct google_api *api;
	char why[512];
};

/*
 * Google refused tally's credentials or a Play Console permission: an
 * alert, once a day however many runs see it (its dedup key names the day).
 */
static void
alert_refused(struct job *j, const char *why)
{
	char storage[1024], day[TM_ISO_SIZE];
	struct outbox_row r;
	struct buf b;
	struct jw w;
	enum terr rc;

	if (j->dry_run)
		return;
	tm_iso(j->now, day);
	day[10] = '\0';
	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "type", "reconcile.refused");
	jw_kstr(&w, "provider", "google");
	jw_kstr(&w, "message", why);
	jw_end(&w);
	memset(&r, 0, sizeof(r));
	r.kind = OUTBOX_ALERT;
	text_copy(r.topic, sizeof(r.topic), "reconcile.refused");
	snprintf(r.dedup_key, sizeof(r.dedup_key), "alert:reconcile:google:refused:%s", day);
	r.payload = buf_cstr(&b);
	r.next_at = r.created_at = j->now;
	if (b.err != TERR_OK)
		return;
	rc = store_outbox_insert(j->s, &r);
	if (rc == TERR_OK)
		job_count(j, "google.alerted", 1);
	else if (rc != TERR_DUP)
		job_fail(j, "storage failed writing the alert: %s", err_str(rc));
}

/* The "google" line's error for a call that failed with rc: alerted when it is tally's credentials. */
static void
call_failed(struct gpass *g, enum terr rc, const char *left)
{
	char reason[700];

	if (rc == TERR_AUTH)
		alert_refused(g->j, g->why);
	snprintf(reason, sizeof(reason), "%.500s%s", g->why, left != NULL ? left : "");
	reconcile_failed(g->j, "google", "Google Play", reason);
}

/* ------------------------------------------------------- voided purchases */

/* A voided purchase to apply: the payment tally has of it, and what Google listed. */
struct gvoided {
	char token[ID_MAX];
	char order[ID_MAX];
	char id[ID_MAX];
	int64_t at;       /* voidedTimeMillis */
	int product_type; /* 1 subscription, 2 one-time product (voidedPurchaseNotification's) */
	int partial;      /* voidedQuantity: a quantity-based partial refund */
	char *doc;        /* the VoidedPurchase as Google listed it (cJSON_PrintUnformatted) */
};

struct gvoided_list {
	struct gvoided *v;
	size_t n, max;
};

static void
voided_release(struct gvoided_list *l)
{
	size_t i;

	for (i = 0; l->v != NULL && i < l->n; i++)
		free(l->v[i].doc);
	free(l->v);
}

/* An int64 member of Google's JSON: a string of digits (int64 as Google writes it) or a number. */
static int
g_millis(const cJSON *o, const char *key, int64_t *ms)
{
	const cJSON *v = jget(o, key);

	if (cJSON_IsString(v))
		return text_i64s(v->valuestring, 1, INT64_MAX / 2, ms) == TERR_OK;
	return jint(o, key, ms) == 1 && *ms > 0;
}

/*
 * The payment of voided purchase it, when tally knows it: by the orderId,
 * else by "token:<purchaseToken>" (a one-time product's other key). 1 found
 * (*p), 0 not, -1 storage failed.
 */
static int
voided_payment(struct job *j, const char *order, const char *token, struct pay_row *p)
{
	char tkey[ID_MAX];
	enum terr rc = TERR_NOTFOUND;

	if (order[0] != '\0')
		rc = store_pay_find_key(j->s, "google", order, p);
	if (rc == TERR_NOTFOUND && text_key(tkey, sizeof(tkey), "token", token, NULL) == TERR_OK)
		rc = store_pay_find_key(j->s, "google", tkey, p);
	if (rc == TERR_OK)
		return 1;
	if (rc == TERR_NOTFOUND)
		return 0;
	job_fail(j, "storage failed reading payments: %s", err_str(rc));
	return -1;
}

/*
 * One VoidedPurchase it: kept in l when its payment is tally's and is not
 * refunded yet (a quantity-based partial refund leaves the payment paid:
 * then its event id, already in the inbox, says it was applied). Counted
 * otherwise. 0, or -1 (storage failed, out of memory).
 */
static int
voided_take(struct job *j, const cJSON *it, struct gvoided_list *l)
{
	const char *token = jstr(it, "purchaseToken"), *order = jstr(it, "orderId");
	struct gvoided *v;
	struct inbox_row row;
	struct pay_row p;
	char ms[24];
	int64_t at = 0;
	enum terr rc;
	int r;

	if (token == NULL || !text_id_valid(token, ID_MAX - 1) ||
	    (order != NULL && !text_id_valid(order, ID_MAX - 1)) ||
	    !g_millis(it, "voidedTimeMillis", &at)) {
		job_count(j, "google.voided_unreadable", 1);
		return 0;
	}
	if (order == NULL)
		order = "";
	if ((r = voided_payment(j, order, token, &p)) <= 0) {
		if (r == 0)
			job_count(j, "google.voided_unknown", 1);
		return r;
	}
	if (jget(it, "voidedQuantity") == NULL && p.state != PAY_PAID) {
		job_count(j, "google.voided_already", 1);
		return 0;
	}
	if (l->n == l->max) {
		job_count(j, "google.voided_left", 1);
		return 0;
	}
	v = &l->v[l->n];
	memset(v, 0, sizeof(*v));
	snprintf(ms, sizeof(ms), "%lld", (long long)at);
	if (crypto_key(v->id, sizeof(v->id), "voided", order[0] != '\0' ? order : token, ms,
		NULL) != TERR_OK) {
		job_count(j, "google.voided_unreadable", 1);
		return 0;
	}
	rc = store_inbox_find(j->s, "google", v->id, &row);
	if (rc == TERR_OK) {
		job_count(j, "google.voided_recorded", 1);
		return 0;
	}
	if (rc != TERR_NOTFOUND) {
		job_fail(j, "storage failed reading the inbox: %s", err_str(rc));
		return -1;
	}
	text_copy(v->token, sizeof(v->token), token);
	text_copy(v->order, sizeof(v->order), order);
	v->at = at;
	v->product_type = p.sub_id != 0 ? 1 : 2;
	v->partial = jget(it, "voidedQuantity") != NULL;
	if ((v->doc = cJSON_PrintUnformatted(it)) == NULL) {
		job_fail(j, "out of memory");
		return -1;
	}
	l->n++;
	return 0;
}

/* One page's voidedPurchases into l. 0, or -1 (the page cannot be read: g->why, or storage). */
static int
voided_page(struct gpass *g, const struct buf *answer, struct gvoided_list *l)
{
	const cJSON *arr, *it;
	const char *jwhy;
	cJSON *root = NULL;
	int ret = 0;

	if (json_parse(answer->p, answer->len, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK ||
	    !cJSON_IsObject(root) ||
	    ((arr = jget(root, "voidedPurchases")) != NULL && !cJSON_IsArray(arr))) {
		snprintf(g->why, sizeof(g->why),
		    "voidedpurchases.list answered what is not a list of voided purchases");
		cJSON_Delete(root);
		return -1;
	}
	job_count(g->j, "google.voided_listed", arr != NULL ? cJSON_GetArraySize(arr) : 0);
	for (it = arr != NULL ? arr->child : NULL; it != NULL && ret == 0; it = it->next) {
		if (!cJSON_IsObject(it)) {
			job_count(g->j, "google.voided_unreadable", 1);
			continue;
		}
		ret = voided_take(g->j, it, l);
		if (ret != 0)
			g->why[0] = '\0';
	}
	cJSON_Delete(root);
	return ret;
}

static int
by_voided_time(const void *a, const void *b)
{
	const struct gvoided *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

/*
 * Every page of the last 30 days read into l (nothing applied yet). 0, or -1:
 * the call failed (the "google" line says why) or storage failed.
 */
static int
voided_read(struct gpass *g, struct gvoided_list *l)
{
	struct job *j = g->j;
	char next[1024], page[1024];
	struct buf answer;
	int64_t wall = tm_now_ms();
	int pages = 0, ret = -1;
	enum terr rc;

	page[0] = '\0';
	buf_init(&answer, GOOGLE_ANSWER_MAX);
	for (;;) {
		/* Google's clock, not --now: the window is checked against it. */
		rc = google_voided_list(g->api, wall - VOIDED_BACK_MS, 0, page, &answer, next,
		    sizeof(next), g->why, sizeof(g->why));
		if (rc != TERR_OK) {
			call_failed(g, rc, "; no voided purchase applied");
			goto out;
		}
		pages++;
		if (voided_page(g, &answer, l) != 0) {
			if (g->why[0] != '\0')
				call_failed(g, TERR_IO, NULL);
			goto out;
		}
		if (job_tick(j) != 0)
			goto out;
		if (next[0] == '\0')
			break;
		if (pages == GOOGLE_RECONCILE_VOIDED_PAGES) {
			/* The oldest pages come first: the newest wait for a run with fewer to read. */
			job_count(j, "google.voided_pages_left", 1);
			break;
		}
		text_copy(page, sizeof(page), next);
	}
	job_count(j, "google.voided_pages", pages);
	qsort(l->v, l->n, sizeof(*l->v), by_voided_time);
	ret = 0;
out:
	buf_release(&answer);
	return ret;
}

/*
 * Tally's envelope of the voidedPurchaseNotification the webhook would
 * have received for v (google_push.h), into body; note is scratch.
 */
static enum terr
voided_envelope(struct job *j, const struct gvoided *v, struct buf *note, struct buf *body)
{
	struct google_envelope env;
	struct jw w;
	char ms[24];

	buf_reset(note);
	buf_reset(body);
	snprintf(ms, sizeof(ms), "%lld", (long long)v->at);
	jw_init(&w, note);
	jw_obj(&w);
	jw_kstr(&w, "version", "1.0");
	jw_kstr(&w, "packageName", j->cfg.google.package_name);
	jw_kstr(&w, "eventTimeMillis", ms);
	jw_key(&w, "voidedPurchaseNotification");
	jw_obj(&w);
	jw_kstr(&w, "purchaseToken", v->token);
	if (v->order[0] != '\0')
		jw_kstr(&w, "orderId", v->order);
	jw_kint(&w, "productType", v->product_type);
	/* 7.3: refundType 2 is a quantity-based partial refund, what voidedQuantity says. */
	jw_kint(&w, "refundType", v->partial ? 2 : 1);
	jw_end(&w);
	jw_end(&w);
	if (note->err != TERR_OK)
		return note->err;
	memset(&env, 0, sizeof(env));
	env.message_id = v->id;
	env.fetched_at = tm_now_ms();
	env.call = GOOGLE_CALL_NONE;
	env.token = v->token;
	env.notification = note->p;
	env.notification_n = note->len;
	env.purchase = v->doc;
	env.purchase_n = strlen(v->doc);
	return google_envelope_write(&env, body);
}

/* Voided purchases tally has not refunded, applied oldest first. 0, or -1 (the line says why). */
static int
voided(struct gpass *g)
{
	struct job *j = g->j;
	struct gvoided_list l = { NULL, 0, 0 };
	struct buf note, body;
	char subject[ID_MAX + 32];
	size_t i;
	int ret = -1;

	buf_init(&note, GOOGLE_NOTE_MAX);
	buf_init(&body, BODY_MAX);
	l.max = GOOGLE_RECONCILE_VOIDED_MAX;
	if (j->limit - j->done < (int64_t)l.max)
		l.max = j->limit - j->done > 0 ? (size_t)(j->limit - j->done) : 0;
	if (l.max == 0) {
		ret = 0; /* --limit spent: nothing more this run */
		goto out;
	}
	if ((l.v = calloc(l.max, sizeof(*l.v))) == NULL) {
		job_fail(j, "out of memory");
		goto out;
	}
	if (voided_read(g, &l) != 0)
		goto out;
	for (i = 0; i < l.n && !j->stop; i++) {
		/* Under 96 bytes (struct job_slot): a token is cut, the event id has it whole. */
		snprintf(subject, sizeof(subject), "order %.64s",
		    l.v[i].order[0] != '\0' ? l.v[i].order : l.v[i].token);
		if (voided_envelope(j, &l.v[i], &note, &body) != TERR_OK) {
			job_fail(j, "google voided purchase %s: larger than the largest body",
			    subject);
			continue;
		}
		if (job_apply_raw(j, "google", buf_cstr(&body), body.len, "google voided purchase",
			subject) != 0)
			goto out;
	}
	if (job_flush(j) == 0 && !j->stop)
		ret = 0;
out:
	voided_release(&l);
	buf_release(&note);
	buf_release(&body);
	return ret;
}

/* ------------------------------------------------------------------ drift */

/* Statuses that say Google has nothing to tell of the purchase: recorded once, not asked again. */
static int
gone_status(int status)
{
	return status == 400 || status == 404 || status == 410;
}

/*
 * The event id of Google's answer about token: "reconcile:<token>:<16 hex of
 * SHA-256 of the answer>" for a 200, "reconcile:<token>:<status>" otherwise
 * (crypto_key: a token too long to fit is hashed).
 */
static enum terr
drift_id(const char *token, int status, const char *answer, size_t n, char *id, size_t size)
{
	unsigned char h[SHA256_LEN];
	char hex[33];

	if (status == 200) {
		crypto_sha256(answer, n, h);
		text_hex(h, 16, hex);
	} else
		snprintf(hex, sizeof(hex), "%d", status);
	return crypto_key(id, size, "reconcile", token, hex, NULL);
}

/* 1 when Google said of r's token (404, 410, 400) after r's state was last set: not asked again. */
static int
drift_gone_before(struct job *j, const struct sub_row *r)
{
	static const int statuses[] = { 404, 410, 400 };
	struct inbox_row row;
	char id[ID_MAX];
	size_t i;
	enum terr rc;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		if (drift_id(r->ext_id, statuses[i], NULL, 0, id, sizeof(id)) != TERR_OK)
			continue;
		rc = store_inbox_find(j->s, "google", id, &row);
		if (rc == TERR_OK && row.event_at >= r->state_at)
			return 1;
		if (rc != TERR_OK && rc != TERR_NOTFOUND) {
			j->stop = 1;
			job_fail(j, "storage failed reading the inbox: %s", err_str(rc));
			return -1;
		}
	}
	return 0;
}

/* The subscriptions a run reads, collected from the walks of due subscriptions. */
struct drift_set {
	struct sub_row *rows; /* calloc'ed, 3 * max: each of the three walks adds up to max */
	size_t n, max, from;  /* from: where the current walk's rows start */
};

/* When r may change by itself: its grace's end when past_due, its trial's when trialing. */
static int64_t
due_of(const struct sub_row *r)
{
	if (r->state == SUB_PAST_DUE)
		return r->grace_until;
	if (r->state == SUB_TRIALING && r->trial_end != 0)
		return r->trial_end;
	return r->period_end;
}

static int
take_due(struct job *j, const struct sub_row *r, void *arg)
{
	struct drift_set *d = arg;
	size_t i;
	int gone;

	if (strcmp(r->provider, "google") != 0 || d->n - d->from == d->max)
		return 0;
	for (i = 0; i < d->n; i++)
		if (d->rows[i].id == r->id)
			return 0;
	if ((gone = drift_gone_before(j, r)) != 0) {
		if (gone > 0)
			job_count(j, "google.gone_before", 1);
		return gone < 0 ? -1 : 0;
	}
	d->rows[d->n++] = *r;
	return 0;
}

static int
by_due(const void *a, const void *b)
{
	int64_t x = due_of(a), y = due_of(b);

	if (x != y)
		return x < y ? -1 : 1;
	return ((const struct sub_row *)a)->id < ((const struct sub_row *)b)->id ? -1 : 1;
}

/*
 * The Google subscriptions to read this run (reconcile_google.h), the
 * oldest end first, at most the run's room. 0, or -1 (the job failed).
 */
static int
drift_collect(struct job *j, struct drift_set *d)
{
	static const enum due_subs walks[3] = { DUE_PERIOD, DUE_GRACE, DUE_TRIAL };
	struct store_pos start = STORE_POS_START;
	int64_t room = j->limit - j->done, until = j->now + GOOGLE_RECONCILE_NEAR_MS;
	size_t k;

	d->max = room < RECONCILE_STALE_MAX ? (size_t)(room > 0 ? room : 0) : RECONCILE_STALE_MAX;
	if (d->max == 0)
		return 0;
	/* Each walk may fill the whole room: the oldest ends of all three are kept below. */
	if ((d->rows = calloc(3 * d->max, sizeof(*d->rows))) == NULL) {
		job_fail(j, "out of memory");
		return -1;
	}
	for (k = 0; k < 3; k++) {
		d->from = d->n;
		if (job_walk_subs(j, walks[k], start, until, take_due, d) != 0)
			return -1;
	}
	qsort(d->rows, d->n, sizeof(*d->rows), by_due);
	if (d->n > d->max)
		d->n = d->max;
	return 0;
}

/*
 * "subscription 12 (<the token's first 48 bytes>...)": a report line's subject is kept to
 * fewer than 96 bytes (struct job_slot); the event id names the token whole.
 */
static void
drift_subject(const struct sub_row *row, char *subject, size_t ssize, char *tally, size_t tsize)
{
	snprintf(subject, ssize, "subscription %lld (%.48s%s)", (long long)row->id, row->ext_id,
	    strlen(row->ext_id) > 48 ? "..." : "");
	reconcile_describe(row->state, row->period_end, row->cancel_at_period_end, tally, tsize);
}

/* What tally would take from the answer's payment that it has not recorded (its key), or NULL. */
static const char *
unrecorded_order(struct job *j, const struct bev *e, int *failed)
{
	struct pay_row p;
	enum terr rc;

	*failed = 0;
	if (!(e->aspects & BEV_PAY) || e->pay.keys.n == 0)
		return NULL;
	rc = store_pay_find_key(j->s, "google", e->pay.keys.k[0], &p);
	if (rc == TERR_NOTFOUND)
		return e->pay.keys.k[0];
	if (rc != TERR_OK) {
		*failed = 1;
		job_fail(j, "storage failed reading payments: %s", err_str(rc));
	}
	return NULL;
}

/* "no such purchase (404)" ... for an answer that says nothing of the purchase. */
static void
gone_words(int status, char *out, size_t size)
{
	snprintf(out, size, "%s (%d)",
	    status == 404       ? "no such purchase for this package"
		: status == 410 ? "expired more than 60 days ago: Google forgot it"
				: "Google refused the request",
	    status);
}

/*
 * Google's answer (status, answer) about row, as tally's envelope in body
 * and parsed into e; applied when it says something tally lacks. 0, or -1
 * (storage failed, the lease lost).
 */
static int
drift_apply(struct job *j, const struct sub_row *row, int status, const struct buf *answer,
    struct buf *body, struct bev *e)
{
	struct google_envelope env;
	char id[ID_MAX], subject[ID_MAX + 32], tally[96], theirs[160], reason[ID_MAX + 64],
	    pwhy[REASON_MAX];
	const char *order;
	int failed;

	drift_subject(row, subject, sizeof(subject), tally, sizeof(tally));
	buf_reset(body);
	memset(&env, 0, sizeof(env));
	if (drift_id(row->ext_id, status, answer->p, answer->len, id, sizeof(id)) != TERR_OK) {
		job_fail(j, "google subscription %s: its event id does not fit", subject);
		return 0;
	}
	env.message_id = id;
	env.fetched_at = tm_now_ms();
	env.call = GOOGLE_CALL_SUB;
	env.status = status;
	env.token = row->ext_id;
	env.purchase = answer->len > 0 ? answer->p : NULL;
	env.purchase_n = answer->len;
	if (google_envelope_write(&env, body) != TERR_OK) {
		job_fail(j, "google subscription %s: larger than the largest body", subject);
		return 0;
	}
	google_parse(&j->cfg, buf_cstr(body), body->len, e, pwhy, sizeof(pwhy));
	if (gone_status(status)) {
		job_count(j, "google.gone", 1);
		gone_words(status, theirs, sizeof(theirs));
		reconcile_drift(j, "google", subject, row->user, tally, theirs, "recorded", NULL);
	} else if (e->refusal[0] != '\0' || !(e->aspects & BEV_SUB) ||
	    strcmp(e->sub.id, row->ext_id) != 0) {
		reconcile_drift(j, "google", subject, row->user, tally,
		    "an answer tally cannot apply", "recorded",
		    e->refusal[0] != '\0' ? e->refusal : "it names another purchase");
	} else {
		reconcile_describe(e->sub.state, e->sub.period_end, e->sub.cancel_at_period_end,
		    theirs, sizeof(theirs));
		order = unrecorded_order(j, e, &failed);
		if (failed)
			return -1;
		if (!reconcile_differs(row, e) && order == NULL) {
			job_count(j, "google.in_sync", 1);
			return 0;
		}
		if (order != NULL)
			snprintf(reason, sizeof(reason), "order %.200s not recorded", order);
		reconcile_drift(j, "google", subject, row->user, tally, theirs, "found",
		    order != NULL ? reason : NULL);
	}
	return job_apply_raw(j, "google", buf_cstr(body), body->len, "google subscription",
	    subject);
}

/*
 * Google subscriptions read again, the oldest end first, each applied as
 * it comes. 0, or -1 (the "google" line says why; what was read before is
 * applied).
 */
static int
drift(struct gpass *g)
{
	struct job *j = g->j;
	struct drift_set d = { NULL, 0, 0, 0 };
	struct buf answer, body;
	struct bev *e = NULL;
	char left[96];
	size_t i;
	int status, ret = -1;
	enum terr rc;

	buf_init(&answer, GOOGLE_ANSWER_MAX);
	buf_init(&body, BODY_MAX);
	if (drift_collect(j, &d) != 0)
		goto out;
	if (d.n > 0 && (e = malloc(sizeof(*e))) == NULL) {
		job_fail(j, "out of memory");
		goto out;
	}
	for (i = 0; i < d.n && !j->stop; i++) {
		rc = google_fetch(g->api, GOOGLE_CALL_SUB, NULL, d.rows[i].ext_id, &answer, &status,
		    g->why, sizeof(g->why));
		if (rc != TERR_OK) {
			/* Busy (429, 5xx), unreachable or refusing tally: the rest waits for the next run. */
			snprintf(left, sizeof(left), "; %zu subscription%s left for the next run",
			    d.n - i, d.n - i == 1 ? "" : "s");
			job_count(j, "google.left", (int64_t)(d.n - i));
			call_failed(g, rc, left);
			job_flush(j);
			goto out;
		}
		job_count(j, "google.fetched", 1);
		if (drift_apply(j, &d.rows[i], status, &answer, &body, e) != 0 || job_tick(j) != 0)
			goto out;
	}
	if (job_flush(j) == 0 && !j->stop)
		ret = 0;
out:
	free(d.rows);
	free(e);
	buf_release(&answer);
	buf_release(&body);
	return ret;
}

void
reconcile_google(struct job *j)
{
	struct gpass g;
	enum terr rc;

	memset(&g, 0, sizeof(g));
	g.j = j;
	if ((rc = google_api_new(&j->cfg, &g.api, g.why, sizeof(g.why))) != TERR_OK) {
		reconcile_failed(j, "google", "Google Play", g.why);
		return;
	}
	/* A failed voided list: Google is unreachable or refusing tally; the drift waits too. */
	if (voided(&g) == 0 && !j->stop && drift(&g) == 0 && !j->stop)
		reconcile_result(j, "google", NULL);
	google_api_free(g.api);
}
