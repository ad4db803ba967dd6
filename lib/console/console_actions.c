/*
 * The console's forms (POST /admin/action, field "do"). Each takes a
 * reason. Credits, subscription states and links are operator events
 * (op.h) with the admin as the operator, applied through the process's
 * group commit like any webhook, so they are stored, audited, replayable
 * and rebuilt with the rest; the form's nonce is the event's id, so a form
 * sent twice does its work once. Replaying a stored event and retrying a
 * dead delivery are not events: they run on the console's own write
 * connection, followed by an audit row naming the admin and the reason.
 * Every action ends on the page that shows the audit rows it wrote
 * (303 to /admin/done), or on a page saying why nothing was changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/text.h"
#include "base/tm.h"
#include "console/console_actions.h"
#include "console/console_reply.h"
#include "core/apply.h"
#include "core/op.h"
#include "store/store_access.h"
#include "store/store_credits.h"
#include "store/store_rows.h"

/* One action's fields. */
struct act {
	struct creq *q;
	const char *user;
	const char *reason;
};

static void
refuse(struct creq *q, int status, const char *msg)
{
	console_fail(q, status, "Nothing was changed", msg);
}

/* A required text field of at most max bytes, or NULL (the 400 page was sent). */
static const char *
field(struct creq *q, const char *name, size_t max, const char *what)
{
	const char *v = form_get(&q->body, name);
	char msg[128];

	if (v == NULL || !text_id_valid(v, max)) {
		snprintf(msg, sizeof(msg), "%s is required (at most %zu bytes of text).", what,
		    max);
		refuse(q, 400, msg);
		return NULL;
	}
	return v;
}

/* A required integer field within [min, max], or -1 (the 400 page was sent). */
static int64_t
number(struct creq *q, const char *name, int64_t min, int64_t max, const char *what)
{
	const char *v = form_get(&q->body, name);
	char msg[128];
	int64_t n;

	if (v == NULL || text_i64s(v, min, max, &n) != TERR_OK) {
		snprintf(msg, sizeof(msg), "%s must be a whole number from %lld to %lld.", what,
		    (long long)min, (long long)max);
		refuse(q, 400, msg);
		return -1;
	}
	return n;
}

/* 303 to the page showing what was written. */
static void
to_done(struct creq *q, int64_t inbox_id, int64_t audit_id)
{
	char loc[96];

	if (inbox_id > 0 && audit_id > 0)
		snprintf(loc, sizeof(loc), "/admin/done?event=%lld&audit=%lld", (long long)inbox_id,
		    (long long)audit_id);
	else if (inbox_id > 0)
		snprintf(loc, sizeof(loc), "/admin/done?event=%lld", (long long)inbox_id);
	else
		snprintf(loc, sizeof(loc), "/admin/done?audit=%lld", (long long)audit_id);
	console_redirect(q, loc);
}

static void
log_action(struct creq *q, const char *what, int64_t id, const char *result)
{
	struct logline l;

	log_begin(&l, LOG_INFO, "console: action");
	log_str(&l, "admin", console_admin(q));
	log_str(&l, "action", what);
	log_int(&l, "id", id);
	log_str(&l, "result", result);
	log_end(&l);
}

/* 1 when the event stored as inbox_id is the request in body (op_same_request), 0 if not, -1 unreadable. */
static int
same_as_stored(struct creq *q, int64_t inbox_id, const struct buf *body)
{
	struct store *s = svc_store(q->sv);
	struct inbox_row row;
	struct buf stored;
	int same = -1;

	buf_init(&stored, CONSOLE_BODY_MAX + 4096);
	if (s != NULL && store_inbox_get(s, inbox_id, &row, &stored) == TERR_OK)
		same = op_same_request(buf_cstr(body), body->len, buf_cstr(&stored), stored.len);
	buf_release(&stored);
	return same;
}

/* Apply a as the admin's operator event through the group commit, and answer. */
static void
apply_action(struct act *x, struct op_action *a)
{
	struct creq *q = x->q;
	const char *nonce = form_get(&q->body, "nonce");
	struct apply_result res;
	struct bev *e = NULL;
	struct buf body;
	char id[ID_MAX], why[256], msg[REASON_MAX + 64];
	size_t i;
	int rc;

	buf_init(&body, CONSOLE_BODY_MAX + 4096);
	a->source = OP_OPERATOR;
	a->operator_ = console_admin(q);
	a->at = q->now;
	a->user = x->user;
	a->reason = x->reason;
	if (nonce != NULL && strlen(nonce) == NONCE_HEX_LEN) {
		for (i = 0; i < NONCE_HEX_LEN; i++)
			if (!((nonce[i] >= '0' && nonce[i] <= '9') ||
				(nonce[i] >= 'a' && nonce[i] <= 'f')))
				break;
		if (i == NONCE_HEX_LEN) {
			snprintf(id, sizeof(id), "console:%s", nonce);
			a->id = id;
		}
	}
	if ((e = malloc(sizeof(*e))) == NULL) {
		refuse(q, 503, "Out of memory: try again.");
		goto out;
	}
	if (op_event(a, &body, e, why, sizeof(why)) != TERR_OK) {
		refuse(q, 400, why);
		goto out;
	}
	svc_apply(q->sv, e, &res);
	if (res.err != TERR_OK) {
		refuse(q, 503, "Not committed (the database failed): try again.");
		goto out;
	}
	log_action(q, a->action, res.inbox_id,
	    res.code[0] != '\0' ? res.code : inbox_state_str(res.state));
	if (res.code[0] != '\0' || res.inbox_id == 0) {
		snprintf(msg, sizeof(msg), "Refused (%s): %s",
		    res.code[0] != '\0' ? res.code : "refused", res.reason);
		refuse(q, 409, msg);
		goto out;
	}
	/*
	 * The nonce was done before: the same form sent again ends on what it
	 * did; the same form changed (back, another user or amount, send) did
	 * nothing, and says so rather than showing the first one as done.
	 */
	if (res.duplicate && (rc = same_as_stored(q, res.inbox_id, &body)) != 1) {
		refuse(q, rc < 0 ? 503 : 409,
		    rc < 0 ? "The first sending of this form cannot be read: try again."
			   : "This form was already sent with other values, and that was done: "
			     "open the page again to do this too.");
		goto out;
	}
	to_done(q, res.inbox_id, 0);
out:
	buf_release(&body);
	free(e);
}

static void
do_credits(struct act *x, const char *action)
{
	struct creq *q = x->q;
	const char *exp = form_get(&q->body, "expires");
	struct op_action a;
	int64_t amount, until = 0;

	if ((amount = number(q, "amount", 1, CREDITS_MAX, "Credits")) < 0)
		return;
	if (exp != NULL && exp[0] != '\0' && strcmp(action, "credits.grant") == 0 &&
	    (tm_parse(exp, &until) != TERR_OK || until <= q->now)) {
		refuse(q, 400,
		    "Expires must be a time after now: 2026-12-31 or "
		    "2026-12-31T00:00:00Z.");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.action = action;
	a.amount = amount;
	a.expires_at = until;
	apply_action(x, &a);
}

static void
do_grant(struct act *x)
{
	do_credits(x, "credits.grant");
}

static void
do_revoke(struct act *x)
{
	do_credits(x, "credits.revoke");
}

static void
do_sub_set(struct act *x)
{
	struct creq *q = x->q;
	struct op_action a;
	const char *state;
	int64_t sub;

	if ((sub = number(q, "sub", 1, INT64_MAX, "The subscription")) < 0 ||
	    (state = field(q, "state", 23, "The state")) == NULL)
		return;
	if (sub_state_parse(state) == SUB_NONE) {
		refuse(q, 400, "That is not a subscription state.");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.action = "subscription.set";
	a.sub_id = sub;
	a.state = state;
	apply_action(x, &a);
}

const char *const console_providers[] = { "stripe", "apple", "revenuecat", "razorpay", "telegram",
	"cryptobot", NULL };

static void
do_link(struct act *x, const char *action)
{
	struct creq *q = x->q;
	struct op_action a;
	const char *provider, *kind, *ext;
	size_t i;

	if ((provider = field(q, "provider", PROVIDER_MAX - 1, "The provider")) == NULL ||
	    (kind = field(q, "kind", KIND_MAX - 1, "The kind")) == NULL ||
	    (ext = field(q, "ext_id", ID_MAX - 1, "The id")) == NULL)
		return;
	for (i = 0; console_providers[i] != NULL && strcmp(console_providers[i], provider) != 0;
	     i++)
		;
	if (console_providers[i] == NULL) {
		refuse(q, 400, "That is not a provider tally knows.");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.action = action;
	a.link_provider = provider;
	a.link_kind = kind;
	a.link_id = ext;
	apply_action(x, &a);
}

static void
do_link_add(struct act *x)
{
	do_link(x, "links.add");
}

static void
do_link_remove(struct act *x)
{
	do_link(x, "links.remove");
}

/* The audit row of an action that is not an event, in the open transaction of s. */
static enum terr
audit(struct act *x, struct store *s, const char *action, const char *object, const char *user,
    const char *detail, int64_t inbox_id, int64_t *id)
{
	struct audit_row r;
	enum terr rc;

	memset(&r, 0, sizeof(r));
	r.at = x->q->now;
	snprintf(r.actor, sizeof(r.actor), "operator:%s", console_admin(x->q));
	text_copy(r.user, sizeof(r.user), user);
	text_copy(r.action, sizeof(r.action), action);
	text_copy(r.object, sizeof(r.object), object);
	text_copy(r.detail, sizeof(r.detail), detail);
	text_copy(r.reason, sizeof(r.reason), x->reason);
	r.inbox_id = inbox_id;
	rc = store_audit_insert(s, &r);
	*id = r.id;
	return rc;
}

/*
 * Apply a stored event again, and record who did it and why in the same
 * transaction (apply_replay with its audit row), on the console's write
 * connection; the store's lock file makes writers of every process take turns.
 */
static void
do_replay(struct act *x)
{
	struct creq *q = x->q;
	struct apply_result res;
	struct audit_row who;
	struct store *s;
	int64_t id;
	enum terr rc;

	if ((id = number(q, "event", 1, INT64_MAX, "The event")) < 0)
		return;
	if ((s = console_rw(q)) == NULL) {
		refuse(q, 503, "The database cannot be written: try again.");
		return;
	}
	memset(&who, 0, sizeof(who));
	snprintf(who.actor, sizeof(who.actor), "operator:%s", console_admin(q));
	text_copy(who.reason, sizeof(who.reason), x->reason);
	rc = apply_replay(s, q->c, id, &who, &res, q->now);
	console_rw_done(q);
	if (rc == TERR_NOTFOUND) {
		refuse(q, 404, "No such event.");
		return;
	}
	if (rc != TERR_OK) {
		refuse(q, 503, res.reason[0] != '\0' ? res.reason : "Not committed: try again.");
		return;
	}
	if (res.duplicate) {
		refuse(q, 409,
		    "That event was applied already: replaying it would change nothing.");
		return;
	}
	log_action(q, "event.replay", id, inbox_state_str(res.state));
	to_done(q, id, who.id);
}

/* A dead delivery back to pending, with its audit row, in one transaction. */
static void
do_outbox_retry(struct act *x)
{
	struct creq *q = x->q;
	struct store *s;
	char object[48];
	int64_t id, audit_id = 0;
	enum terr rc;

	if ((id = number(q, "outbox", 1, INT64_MAX, "The delivery")) < 0)
		return;
	if ((s = console_rw(q)) == NULL) {
		refuse(q, 503, "The database cannot be written: try again.");
		return;
	}
	snprintf(object, sizeof(object), "outbox:%lld", (long long)id);
	if ((rc = store_begin(s)) == TERR_OK &&
	    (rc = store_outbox_retry(s, id, q->now)) == TERR_OK &&
	    (rc = audit(x, s, "outbox.retry", object, NULL, "dead -> pending", 0, &audit_id)) ==
		TERR_OK)
		rc = store_commit(s);
	if (rc != TERR_OK)
		store_rollback(s);
	console_rw_done(q);
	if (rc != TERR_OK) {
		refuse(q, rc == TERR_NOTFOUND ? 409 : 503,
		    rc == TERR_NOTFOUND ? "That delivery is not dead (retried already?)."
					: "Not committed: try again.");
		return;
	}
	log_action(q, "outbox.retry", id, "pending");
	to_done(q, 0, audit_id);
}

static const struct {
	const char *name;
	int needs_user;
	void (*fn)(struct act *x);
} actions[] = {
	{ "credits.grant", 1, do_grant },
	{ "credits.revoke", 1, do_revoke },
	{ "subscription.set", 1, do_sub_set },
	{ "links.add", 1, do_link_add },
	{ "links.remove", 1, do_link_remove },
	{ "event.replay", 0, do_replay },
	{ "outbox.retry", 0, do_outbox_retry },
};

void
console_action(struct creq *q)
{
	const char *what = form_get(&q->body, "do");
	struct act x;
	size_t i;

	memset(&x, 0, sizeof(x));
	x.q = q;
	for (i = 0; what != NULL && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, what) == 0)
			break;
	if (what == NULL || i == sizeof(actions) / sizeof(actions[0])) {
		refuse(q, 400, "No such action.");
		return;
	}
	if ((x.reason = field(q, "reason", CONSOLE_REASON_MAX, "A reason")) == NULL)
		return;
	if (actions[i].needs_user && (x.user = field(q, "user", USER_ID_MAX, "The user")) == NULL)
		return;
	actions[i].fn(&x);
}
