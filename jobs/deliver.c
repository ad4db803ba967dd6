/*
 * tally-deliver: the outbox, sent (DESIGN.md invariant 7: what can fail
 * never blocks the payment; it waits here, written with the change).
 *
 *   webhook  POST deliver.webhook_url: the app's backend, when a user's
 *            entitlements or balance changed (topic user.updated)
 *   notify   POST deliver.notify_url: user notifications (trial_ending,
 *            plan_ending, payment_failed, expired, renewal_failed ...)
 *   alert    POST deliver.alert_url: a Slack-compatible incoming webhook,
 *            {"text": "..."} (events needing attention, dead deliveries ...)
 *
 * webhook and notify are signed as Standard Webhooks says (PROVIDERS.md 8):
 * webhook-id "msg_<32 hex of SHA-256(dedup key)>" (the same on every retry,
 * so the app can drop a repeat), webhook-timestamp (Unix seconds of this
 * attempt, on the wall clock), webhook-signature "v1,<base64 HMAC-SHA256 of
 * id.timestamp.body>" keyed with the base64-decoded TALLY_WEBHOOK_SECRET
 * ("whsec_<base64>"; several, comma-separated, while one is rolled: one v1
 * each). Never sent unsigned: without the secret they wait, and the run
 * fails saying so.
 *
 * Each attempt is claimed first, in its own transaction (attempts + 1, and
 * next_at set to when it would be retried), so a runner killed mid-send
 * leaves the row to be sent again later: at least once. A 2xx marks it sent;
 * anything else records the error and retries after 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h, 14 h, 20 h, then daily (the Standard Webhooks schedule; a longer
 * Retry-After wins); after deliver.max_attempts, or on 410 Gone, the row is
 * dead and an alert says so. A kind whose URL is not configured is dead at
 * once ("not configured"), without an alert.
 *
 * Picked through outbox_due. Options: lib/job/job.h. Exit 0, 1, 2.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "crypto/crypto.h"
#include "http/httpc.h"
#include "job/job.h"

#define LIMIT_DEFAULT  1000
/* Bytes of an error answer kept in last_error. */
#define ERROR_BODY_MAX 200
#define ALERT_TEXT_MAX 3000
#define WHSEC_MIN      24
#define WHSEC_MAX      64

struct sender {
	struct hmac_key keys[SECRETS_MAX];
	size_t nkeys;
	struct cfg_http http;
	char key_error[256]; /* why the secret cannot be used, "" when it can */
};

static const char *const kinds[] = { "webhook", "notify", "alert" };

/* The wait after failed attempt n (1-based), Standard Webhooks' example schedule. */
static int64_t
retry_wait(int64_t n)
{
	static const int64_t s[] = { 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400 };

	if (n < 1)
		n = 1;
	return (n <= (int64_t)(sizeof(s) / sizeof(s[0])) ? s[n - 1] : 86400) * 1000;
}

/* TALLY_WEBHOOK_SECRET: "whsec_<base64 of 24..64 bytes>", comma-separated while rolled. */
static void
load_keys(struct sender *snd)
{
	char all[SECRET_MAX], one[SECRET_MAX], why[256];
	unsigned char key[WHSEC_MAX];
	const char *p, *comma;
	size_t len, n, pos = 0;

	snd->key_error[0] = '\0';
	if (cfg_secret("TALLY_WEBHOOK_SECRET", all, sizeof(all), why, sizeof(why)) != TERR_OK) {
		snprintf(snd->key_error, sizeof(snd->key_error), "%s", why);
		return;
	}
	if (all[0] == '\0') {
		snprintf(snd->key_error, sizeof(snd->key_error),
		    "TALLY_WEBHOOK_SECRET is not set: webhooks and notifications are never sent "
		    "unsigned");
		return;
	}
	for (p = all; *p != '\0' && snd->key_error[0] == '\0'; p = comma + 1) {
		pos++;
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len > 0) {
			/* The entry's place in the list, never its bytes (docs/jobs.md "The outbox"). */
			if (snd->nkeys == SECRETS_MAX)
				snprintf(snd->key_error, sizeof(snd->key_error),
				    "TALLY_WEBHOOK_SECRET: more than %d secrets", SECRETS_MAX);
			else if (text_copyn(one, sizeof(one), p, len) != TERR_OK ||
			    strncmp(one, "whsec_", 6) != 0 ||
			    text_b64dec(one + 6, len - 6, 0, key, sizeof(key), &n) != TERR_OK ||
			    n < WHSEC_MIN ||
			    crypto_hmac_init(&snd->keys[snd->nkeys], key, n) != TERR_OK)
				snprintf(snd->key_error, sizeof(snd->key_error),
				    "TALLY_WEBHOOK_SECRET: secret %zu of the list: expected whsec_ "
				    "and the base64 of %d to %d random bytes",
				    pos, WHSEC_MIN, WHSEC_MAX);
			else
				snd->nkeys++;
			crypto_wipe(key, sizeof(key));
			crypto_wipe(one, sizeof(one));
		}
		if (comma == NULL)
			break;
	}
	crypto_wipe(all, sizeof(all));
	if (snd->key_error[0] != '\0') {
		while (snd->nkeys > 0)
			crypto_hmac_release(&snd->keys[--snd->nkeys]);
	}
}

/* "msg_" and 32 hex digits of SHA-256(dedup key): stable across retries, no '.' (the spec). */
static void
webhook_id(const char *dedup, char out[40])
{
	unsigned char h[SHA256_LEN];

	crypto_sha256(dedup, strlen(dedup), h);
	memcpy(out, "msg_", 4);
	text_hex(h, 16, out + 4);
}

/* "webhook-signature: v1,<b64> v1,<b64>" over "id.timestamp.body", one per key. */
static enum terr
sign(const struct sender *snd, const char *id, const char *ts, const struct buf *body,
    struct buf *hdr)
{
	unsigned char mac[SHA256_LEN];
	char b64[64];
	struct iov parts[5];
	size_t i;

	parts[0] = (struct iov){ id, strlen(id) };
	parts[1] = (struct iov){ ".", 1 };
	parts[2] = (struct iov){ ts, strlen(ts) };
	parts[3] = (struct iov){ ".", 1 };
	parts[4] = (struct iov){ body->p != NULL ? body->p : "", body->len };
	buf_puts(hdr, "webhook-signature:");
	for (i = 0; i < snd->nkeys; i++) {
		if (crypto_hmac_sha256(&snd->keys[i], parts, 5, mac) != TERR_OK)
			return TERR_INTERNAL;
		text_b64enc(mac, sizeof(mac), 0, b64, sizeof(b64));
		buf_printf(hdr, " v1,%s", b64);
	}
	crypto_wipe(mac, sizeof(mac));
	return hdr->err;
}

/* The Slack text of an alert: "[tally] <type>: key=value ..." from its payload's top level. */
static void
alert_text(const struct outbox_due *r, struct buf *body)
{
	char storage[ALERT_TEXT_MAX + 1];
	const char *jwhy;
	const cJSON *v;
	cJSON *root = NULL;
	struct buf t;
	struct jw w;

	buf_init_fixed(&t, storage, sizeof(storage));
	buf_printf(&t, "[tally] %s", r->topic);
	if (json_parse(r->payload, strlen(r->payload), JSON_DEPTH_MAX, &root, &jwhy) == TERR_OK &&
	    cJSON_IsObject(root)) {
		buf_puts(&t, ":");
		for (v = root->child; v != NULL; v = v->next) {
			if (strcmp(v->string, "type") == 0)
				continue;
			if (cJSON_IsString(v))
				buf_printf(&t, " %s=%s", v->string, v->valuestring);
			else if (cJSON_IsNumber(v))
				buf_printf(&t, " %s=%.0f", v->string, v->valuedouble);
			else if (cJSON_IsBool(v))
				buf_printf(&t, " %s=%s", v->string,
				    cJSON_IsTrue(v) ? "true" : "false");
		}
	}
	cJSON_Delete(root);
	/* Past ALERT_TEXT_MAX the text is cut where the append failed (buf.h). */
	jw_init(&w, body);
	jw_obj(&w);
	jw_kstr(&w, "text", buf_cstr(&t));
	jw_end(&w);
}

/* An answer's status and the start of its body, printable only, for last_error. */
static void
describe(const struct httpc_resp *resp, char *out, size_t size)
{
	char snippet[ERROR_BODY_MAX + 1];
	size_t i, k = 0;

	for (i = 0; i < resp->body.len && k < ERROR_BODY_MAX; i++) {
		unsigned char c = (unsigned char)resp->body.p[i];
		snippet[k++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
	}
	snippet[k] = '\0';
	snprintf(out, size, "HTTP %ld%s%s", resp->status, k > 0 ? ": " : "", snippet);
}

/* One attempt at row r to url. *status 0 when no answer came; err says why it failed. */
static enum terr
send_one(struct job *j, const struct sender *snd, const struct outbox_due *r, const char *url,
    long *status, long *retry_after, char *err, size_t errsize)
{
	char id[40], ts[24], why[256];
	const char *headers[6];
	struct httpc_req req;
	struct httpc_resp resp;
	struct buf body, hid, hts, hsig;
	enum terr rc;

	(void)j;
	*status = 0;
	*retry_after = -1;
	buf_init(&body, OUTBOX_PAYLOAD_MAX + ALERT_TEXT_MAX + 64);
	buf_init(&hid, 64);
	buf_init(&hts, 64);
	buf_init(&hsig, 64 + SECRETS_MAX * 64);
	httpc_resp_init(&resp, 64 * 1024);
	headers[0] = "Content-Type: application/json";
	headers[1] = "User-Agent: tally-deliver";
	headers[2] = NULL;
	if (r->kind == OUTBOX_ALERT)
		alert_text(r, &body);
	else {
		buf_puts(&body, r->payload);
		webhook_id(r->dedup_key, id);
		/* The time of this attempt on the wall clock: receivers check it against theirs. */
		snprintf(ts, sizeof(ts), "%lld", (long long)(tm_now_ms() / 1000));
		buf_printf(&hid, "webhook-id: %s", id);
		buf_printf(&hts, "webhook-timestamp: %s", ts);
		if ((rc = sign(snd, id, ts, &body, &hsig)) != TERR_OK) {
			snprintf(err, errsize, "cannot sign: %s", err_str(rc));
			goto out;
		}
		headers[2] = buf_cstr(&hid);
		headers[3] = buf_cstr(&hts);
		headers[4] = buf_cstr(&hsig);
		headers[5] = NULL;
	}
	if (body.err != TERR_OK) {
		rc = body.err;
		snprintf(err, errsize, "the request body is too large");
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.body = buf_cstr(&body);
	req.body_len = body.len;
	if ((rc = httpc_do(&snd->http, &req, &resp, why, sizeof(why))) != TERR_OK &&
	    rc != TERR_TOOBIG) {
		snprintf(err, errsize, "no answer: %s", why);
		goto out;
	}
	rc = TERR_OK;
	*status = resp.status;
	*retry_after = resp.retry_after;
	if (resp.status < 200 || resp.status > 299)
		describe(&resp, err, errsize);
out:
	httpc_resp_release(&resp);
	buf_release(&body);
	buf_release(&hid);
	buf_release(&hts);
	crypto_wipe(hsig.p, hsig.cap);
	buf_release(&hsig);
	return rc;
}

/* The alert that a delivery is dead (none for an alert: no loops). */
static void
dead_alert(const struct outbox_due *r, int64_t attempts, const char *err, int64_t now,
    struct outbox_row *a, struct buf *payload)
{
	struct jw w;

	jw_init(&w, payload);
	jw_obj(&w);
	jw_kstr(&w, "type", "outbox.dead");
	jw_kint(&w, "outbox_id", r->id);
	jw_kstr(&w, "kind", kinds[r->kind]);
	jw_kstr(&w, "topic", r->topic);
	if (r->user[0] != '\0')
		jw_kstr(&w, "user_id", r->user);
	jw_kint(&w, "attempts", attempts);
	jw_kstr(&w, "last_error", err);
	jw_end(&w);
	memset(a, 0, sizeof(*a));
	a->kind = OUTBOX_ALERT;
	text_copy(a->topic, sizeof(a->topic), "outbox.dead");
	text_copy(a->user, sizeof(a->user), r->user);
	snprintf(a->dedup_key, sizeof(a->dedup_key), "alert:outbox-dead:%lld", (long long)r->id);
	a->payload = buf_cstr(payload);
	a->next_at = a->created_at = now;
}

/* Record the outcome of an attempt that did not succeed. 0, or -1 when storage failed. */
static int
failed(struct job *j, const struct outbox_due *r, int64_t attempts, const char *err, int dead,
    int alert_dead, int64_t retry_at, struct job_item *it)
{
	char storage[1024], reason[REASON_MAX + 64], when[TM_ISO_SIZE], name[48];
	struct outbox_row alert;
	struct buf payload;
	enum terr rc;

	buf_init_fixed(&payload, storage, sizeof(storage));
	alert_dead = alert_dead && dead && r->kind != OUTBOX_ALERT;
	if (alert_dead)
		dead_alert(r, attempts, err, j->now, &alert, &payload);
	rc = store_outbox_failed(j->s, r->id, err, retry_at, dead, alert_dead ? &alert : NULL);
	if (rc != TERR_OK && rc != TERR_CONFLICT) {
		j->stop = 1;
		job_fail(j, "outbox %lld: storage failed: %s", (long long)r->id, err_str(rc));
		return -1;
	}
	tm_iso(retry_at, when);
	if (dead)
		snprintf(reason, sizeof(reason), "%s (attempt %lld)", err, (long long)attempts);
	else
		snprintf(reason, sizeof(reason), "%s (attempt %lld of %lld; again at %s)", err,
		    (long long)attempts, (long long)j->cfg.jobs.max_attempts, when);
	it->result = dead ? "dead" : "failed";
	it->reason = reason;
	job_report(j, it);
	snprintf(name, sizeof(name), "%s.%s", kinds[r->kind], it->result);
	job_count(j, name, 1);
	return 0;
}

static int
deliver(struct job *j, const struct sender *snd, const struct outbox_due *r)
{
	const char *urls[] = { j->cfg.jobs.webhook_url, j->cfg.jobs.notify_url,
		j->cfg.jobs.alert_url };
	const char *url = urls[r->kind];
	struct job_item it;
	char subject[128], err[REASON_MAX], name[48];
	int64_t attempts = r->attempts + 1, retry_at;
	long status, retry_after;
	int dead;
	enum terr rc;

	j->done++;
	snprintf(subject, sizeof(subject), "outbox %lld (%s %s)", (long long)r->id, kinds[r->kind],
	    r->topic);
	it = (struct job_item){ .action = "deliver", .subject = subject, .user = r->user };
	if (url[0] == '\0' || r->payload_cut) {
		if (url[0] == '\0')
			snprintf(err, sizeof(err), "not configured: deliver.%s_url",
			    kinds[r->kind]);
		else
			snprintf(err, sizeof(err), "payload larger than %d bytes",
			    OUTBOX_PAYLOAD_MAX - 1);
		if (j->dry_run) {
			it.result = "would be dead";
			it.reason = err;
			job_report(j, &it);
			return 0;
		}
		/* Nobody to send it to: dead, and no alert (the operator chose no receiver). */
		return failed(j, r, r->attempts, err, 1, url[0] != '\0', j->now, &it);
	}
	if (r->kind != OUTBOX_ALERT && snd->nkeys == 0) {
		job_count(j, "unsigned.waiting", 1);
		return 0; /* the run fails once, at the end, saying why */
	}
	if (j->dry_run) {
		it.result = "would send";
		job_report(j, &it);
		snprintf(name, sizeof(name), "%s.would_send", kinds[r->kind]);
		job_count(j, name, 1);
		return 0;
	}
	/* Claimed before it is sent: a kill after the send retries it (at least once). */
	rc = store_outbox_claim(j->s, r->id, r->attempts, j->now + retry_wait(attempts));
	if (rc == TERR_CONFLICT)
		return 0; /* another runner has it */
	if (rc != TERR_OK) {
		j->stop = 1;
		job_fail(j, "outbox %lld: storage failed: %s", (long long)r->id, err_str(rc));
		return -1;
	}
	err[0] = '\0';
	if ((rc = send_one(j, snd, r, url, &status, &retry_after, err, sizeof(err))) == TERR_OK &&
	    status >= 200 && status <= 299) {
		if ((rc = store_outbox_sent(j->s, r->id)) != TERR_OK && rc != TERR_CONFLICT) {
			j->stop = 1;
			job_fail(j, "outbox %lld: sent, but storage failed marking it: %s",
			    (long long)r->id, err_str(rc));
			return -1;
		}
		it.result = "sent";
		job_report(j, &it);
		snprintf(name, sizeof(name), "%s.sent", kinds[r->kind]);
		job_count(j, name, 1);
		return job_tick(j);
	}
	/* 410 Gone: the receiver says never again (the spec); else retry until the attempts run out. */
	dead = status == 410 || attempts >= j->cfg.jobs.max_attempts;
	retry_at = j->now + retry_wait(attempts);
	if (retry_after > 0 && j->now + (int64_t)retry_after * 1000 > retry_at)
		retry_at = j->now + (int64_t)retry_after * 1000;
	if (failed(j, r, attempts, err, dead, 1, retry_at, &it) != 0)
		return -1;
	return job_tick(j);
}

static enum terr
page_outbox(struct store *s, const void *arg, struct store_pos *pos, int64_t until, void *rows,
    size_t max, size_t *n)
{
	(void)arg;
	return store_due_outbox(s, pos, until, rows, max, n);
}

static int
row(struct job *j, const void *r, void *snd)
{
	return deliver(j, snd, r);
}

int
main(int argc, char **argv)
{
	struct store_pos start = STORE_POS_START;
	struct sender snd;
	struct job j;
	int r;

	if ((r = job_init(&j, "deliver", argc, argv, NULL, LIMIT_DEFAULT)) != JOB_RUN)
		return r;
	memset(&snd, 0, sizeof(snd));
	snd.http = j.cfg.http;
	snd.http.timeout = j.cfg.jobs.timeout;
	if (snd.http.connect_timeout > snd.http.timeout)
		snd.http.connect_timeout = snd.http.timeout;
	load_keys(&snd);
	job_walk(&j, page_outbox, NULL, sizeof(struct outbox_due), start, j.now, row, &snd);
	/* Webhooks or notifications configured but no usable secret: never sent unsigned, and said. */
	if (snd.key_error[0] != '\0' &&
	    (j.cfg.jobs.webhook_url[0] != '\0' || j.cfg.jobs.notify_url[0] != '\0'))
		job_fail(&j, "%s", snd.key_error);
	while (snd.nkeys > 0)
		crypto_hmac_release(&snd.keys[--snd.nkeys]);
	return job_finish(&j);
}
