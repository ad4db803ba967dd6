/*
 * What the API's routes share: the request's fields, the ids of idempotent
 * events (and the ids they had before the parts of ids were escaped), one of
 * tally's own events applied for the request with its replay answered as the
 * first request, and the user document as the answer.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_action.h"
#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/op.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "store/store_rows.h"

/* The HTTP status of a refusal code of apply (apply_result.code). */
static int
status_of(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} map[] = {
		{ "unknown_user", 404 },
		{ "not_found", 404 },
		{ "unknown_referrer", 404 },
		{ "no_trial", 404 },
		{ "insufficient_credits", 402 },
		{ "trial_used", 409 },
		{ "referrer_set", 409 },
		{ "referral_loop", 409 },
		{ "self_referral", 400 },
		{ "not_for_sale", 400 },
		{ "bad_request", 400 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].code, code) == 0)
			return map[i].status;
	return 409;
}

/*
 * The user document: to a key, the same as `tally user show --json`; to the
 * user's own token, its user view (report.h), whatever the route, so a
 * route opened to user tokens can never answer them operators' fields.
 */
void
api_reply_user(struct api_req *q, int status)
{
	struct store *s = svc_store(q->sv);
	struct buf b;

	if (s == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return;
	}
	buf_init(&b, 4 * 1024 * 1024);
	if (store_user_exists(s, q->user) == TERR_NOTFOUND)
		http_error(q->r, 404, "unknown_user", "no such user");
	else if (report_user_json_view(s, q->c, q->user, tm_now_ms(),
		     q->user_token ? REPORT_USER : REPORT_FULL, &b) != TERR_OK)
		http_error(q->r, 503, "storage_unavailable", "the user could not be read");
	else {
		buf_putc(&b, '\n');
		http_reply_json(q->r, status, &b);
	}
	buf_release(&b);
}

/*
 * The stored body of inbox row id into body; TERR_OK, or a storage error.
 * Its user_id, referrer and whether it names its idempotency_key (events
 * made since the parts of ids were escaped do) through the out parameters.
 */
static enum terr
stored_event(struct api_req *q, int64_t id, struct buf *body, char user[USER_ID_MAX + 1],
    char referrer[USER_ID_MAX + 1], int *has_key)
{
	struct store *s = svc_store(q->sv);
	struct inbox_row row;
	cJSON *root = NULL;
	const char *jwhy, *v;
	enum terr rc;

	user[0] = referrer[0] = '\0';
	*has_key = 0;
	if (s == NULL)
		return TERR_DB;
	if ((rc = store_inbox_get(s, id, &row, body)) != TERR_OK)
		return rc;
	if (json_parse(buf_cstr(body), body->len, JSON_DEPTH_MAX, &root, &jwhy) == TERR_OK) {
		if ((v = jstr(root, "user_id")) != NULL)
			text_copy(user, USER_ID_MAX + 1, v);
		if ((v = jstr(root, "referrer")) != NULL)
			text_copy(referrer, USER_ID_MAX + 1, v);
		*has_key = jget(root, "idempotency_key") != NULL;
	}
	cJSON_Delete(root);
	return TERR_OK;
}

/*
 * Before the parts of ids were escaped, (user "a", key "x:k") and (user
 * "a:x", key "k") made one id, "spend:a:x:k". A request whose id changed
 * with the escaping looks for its own event of before under that old id
 * (q->legacy): one made before (it names no idempotency_key) for this user,
 * and for this referrer if it names one; the old id then holds this
 * request's key, the rest of it. Another user's is none of its business.
 * 1 when found, with q->res as apply's answer for a duplicate; 0 when none;
 * -1 when the store failed (503 sent).
 */
static int
legacy_find(struct api_req *q, const struct op_action *a)
{
	struct store *s = svc_store(q->sv);
	struct inbox_row row;
	struct buf body;
	char user[USER_ID_MAX + 1], referrer[USER_ID_MAX + 1];
	int found = -1, has_key;
	enum terr rc;

	buf_init(&body, API_BODY_MAX + 4096);
	if (s == NULL)
		goto out;
	if ((rc = store_inbox_find(s, OP_APP, q->legacy, &row)) == TERR_NOTFOUND ||
	    (rc == TERR_OK && row.state != INBOX_APPLIED && row.state != INBOX_IGNORED)) {
		found = 0;
		goto out;
	}
	if (rc != TERR_OK || stored_event(q, row.id, &body, user, referrer, &has_key) != TERR_OK)
		goto out;
	found = !has_key && strcmp(user, q->user) == 0 &&
	    (a->referrer == NULL || strcmp(referrer, a->referrer) == 0);
	if (found) {
		memset(&q->res, 0, sizeof(q->res));
		q->res.inbox_id = row.id;
		q->res.state = row.state;
		q->res.duplicate = 1;
		text_copy(q->res.user, sizeof(q->res.user), row.user);
		text_copy(q->res.reason, sizeof(q->res.reason), row.reason);
	}
out:
	if (found < 0)
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read; retry");
	buf_release(&body);
	return found;
}

/*
 * A request whose event was found done (q->res.duplicate; legacy: found by
 * legacy_find) is answered as the first one only when it is the same
 * request: the same user and every field the same (op_same_request). An
 * event made before the parts of ids were escaped that has this request's
 * new id was another request (its plain parts spell this one's escaped
 * ones) unless the escaping changed nothing. 0 when it is the same request;
 * 1 when the answer was sent (409 idempotency_conflict, or 503).
 */
static int
replay_check(struct api_req *q, const struct op_action *a, int legacy)
{
	struct buf stored;
	char user[USER_ID_MAX + 1], referrer[USER_ID_MAX + 1];
	int rc = 1, has_key;

	buf_init(&stored, API_BODY_MAX + 4096);
	if (stored_event(q, q->res.inbox_id, &stored, user, referrer, &has_key) != TERR_OK)
		http_error(q->r, 503, "storage_unavailable",
		    "the first request cannot be read; retry");
	else if ((!legacy && a->idem_key != NULL && !has_key && q->legacy[0] != '\0') ||
	    !op_same_request(buf_cstr(&q->evbody), q->evbody.len, buf_cstr(&stored), stored.len))
		http_error(q->r, 409, "idempotency_conflict",
		    "this idempotency_key was used for another request");
	else
		rc = 0;
	buf_release(&stored);
	return rc;
}

/*
 * Apply a (source app, by the key, at now). 0 when it applied, or when it
 * is a replay of the same request; else the answer was sent (503 not
 * committed, the refusal's status and code, or 409 idempotency_conflict).
 */
int
api_apply_action(struct api_req *q, struct op_action *a)
{
	char why[256];
	int found = 0;

	a->source = OP_APP;
	a->operator_ = q->who;
	a->at = q->sv->now;
	a->user = q->user;
	if (op_event(a, &q->evbody, q->e, why, sizeof(why)) != TERR_OK) {
		http_error(q->r, 400, "bad_request", why);
		return 1;
	}
	if (q->legacy[0] != '\0' && (found = legacy_find(q, a)) < 0)
		return 1;
	if (found)
		return replay_check(q, a, 1);
	svc_apply(q->sv, q->e, &q->res);
	if (q->res.err != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "not committed; retry");
		return 1;
	}
	if (q->res.code[0] != '\0') {
		http_error(q->r, status_of(q->res.code), q->res.code, q->res.reason);
		return 1;
	}
	if (q->res.state == INBOX_UNKNOWN_PRODUCT) {
		http_error(q->r, 400, "unknown_product", q->res.reason);
		return 1;
	}
	if (q->res.state == INBOX_FAILED || q->res.state == INBOX_ORPHANED) {
		http_error(q->r, 409, "refused", q->res.reason);
		return 1;
	}
	return q->res.duplicate ? replay_check(q, a, 0) : 0;
}

/* A string field: NULL when absent; *bad when present but not text of 1..max bytes. */
const char *
api_field(struct api_req *q, const char *key, size_t max, int *bad)
{
	const cJSON *v = jget(q->body, key);

	if (v == NULL)
		return NULL;
	if (!cJSON_IsString(v) || !text_id_valid(v->valuestring, max)) {
		*bad = 1;
		return NULL;
	}
	return v->valuestring;
}

/* A time field: RFC 3339 text; 0 when absent. */
int64_t
api_time_field(struct api_req *q, const char *key, int *bad)
{
	const char *s = api_field(q, key, 40, bad);
	int64_t ms = 0;

	if (s != NULL && tm_parse(s, &ms) != TERR_OK)
		*bad = 1;
	return ms;
}

/*
 * The id of the event of what for the user and key: the three as parts of
 * one text_key, so that no user's key names another user's event (a user id
 * may hold ':'). TERR_TOOBIG when it does not fit in ID_MAX (the app then
 * chooses a shorter key); with digest, never: past ID_MAX the id is a digest
 * of the whole (crypto_key), for keys the app does not choose. The id the
 * same request had before (the parts joined as they are) goes to q->legacy
 * when it differs.
 */
enum terr
api_key_id(struct api_req *q, const char *what, const char *key, int digest, char out[ID_MAX])
{
	enum terr rc = digest ? crypto_key(out, ID_MAX, what, q->user, key, NULL)
			      : text_key(out, ID_MAX, what, q->user, key, NULL);
	int n;

	q->legacy[0] = '\0';
	if (rc != TERR_OK)
		return rc;
	n = snprintf(q->legacy, sizeof(q->legacy), "%s:%s:%s", what, q->user, key);
	if (n < 0 || (size_t)n >= sizeof(q->legacy) || strcmp(q->legacy, out) == 0)
		q->legacy[0] = '\0';
	return TERR_OK;
}

/* An idempotent event's id (api_key_id), or NULL (a fresh id) without a key; *keyp the key. */
const char *
api_idem_id(struct api_req *q, const char *what, char *out, size_t size, const char **keyp,
    int *bad)
{
	const char *key = api_field(q, "idempotency_key", 128, bad);

	*keyp = key;
	if (key == NULL)
		return NULL;
	if (size < ID_MAX || api_key_id(q, what, key, 0, out) != TERR_OK) {
		*bad = 1;
		return NULL;
	}
	return out;
}
