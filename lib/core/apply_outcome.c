/*
 * apply: the outcome of one event and what records it, shared by apply.c and
 * every aspect (apply_sub.c, apply_money.c ...): notes and failures on the
 * outcome, audit rows (invariant 9), outbox rows (invariant 7), alerts and
 * notices.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "core/apply_outcome.h"
#include "store/store_credits.h"
#include "store/store_rows.h"

int
ap_is_storage_error(enum terr rc)
{
	return rc == TERR_DB || rc == TERR_BUSY || rc == TERR_RETRY || rc == TERR_NOMEM;
}

/* Append a note to the outcome's reason ("; " between notes), bounded. */
void
ap_note(struct outcome *o, const char *fmt, ...)
{
	size_t len = strlen(o->reason);
	va_list ap;

	if (len + 3 >= sizeof(o->reason))
		return;
	if (len > 0) {
		memcpy(o->reason + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(o->reason + len, sizeof(o->reason) - len, fmt, ap);
	va_end(ap);
}

/* End processing with a state other than applied, and why. */
void
ap_outcome_set(struct outcome *o, enum inbox_state st, const char *fmt, ...)
{
	va_list ap;

	o->state = st;
	va_start(ap, fmt);
	vsnprintf(o->reason, sizeof(o->reason), fmt, ap);
	va_end(ap);
}

void
ap_resolver_add(struct outcome *o, const char *provider, const char *kind, const char *id)
{
	if (o->nres == RESOLVERS_MAX)
		return;
	text_copy(o->res[o->nres].provider, PROVIDER_MAX, provider);
	text_copy(o->res[o->nres].kind, KIND_MAX, kind);
	text_copy(o->res[o->nres].id, ID_MAX, id);
	o->nres++;
}

enum terr
ap_audit(struct actx *a, struct outcome *o, const char *action, const char *object,
    const char *detail, const char *reason)
{
	struct audit_row r;

	memset(&r, 0, sizeof(r));
	r.at = a->now;
	text_copy(r.actor, sizeof(r.actor), o->actor);
	text_copy(r.user, sizeof(r.user), o->user);
	text_copy(r.action, sizeof(r.action), action);
	text_copy(r.object, sizeof(r.object), object);
	/* Details are bounded summaries; a cut one is still a valid record of who and what. */
	snprintf(r.detail, sizeof(r.detail), "%s", detail);
	snprintf(r.reason, sizeof(r.reason), "%s", reason != NULL ? reason : "");
	r.inbox_id = o->op.inbox_id;
	return store_audit_insert(a->s, &r);
}

/* An outbox row; a second one with the same dedup key is a no-op (TERR_DUP is success). */
enum terr
ap_outbox(struct actx *a, enum outbox_kind kind, const char *topic, const char *user,
    const char *dedup, const struct buf *payload)
{
	struct outbox_row r;
	enum terr rc;

	if (payload->err != TERR_OK)
		return TERR_INTERNAL;
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	text_copy(r.topic, sizeof(r.topic), topic);
	text_copy(r.user, sizeof(r.user), user != NULL ? user : "");
	snprintf(r.dedup_key, sizeof(r.dedup_key), "%s", dedup);
	r.payload = buf_cstr(payload);
	r.next_at = a->now;
	r.created_at = a->now;
	rc = store_outbox_insert(a->s, &r);
	return rc == TERR_DUP ? TERR_OK : rc;
}

/* Invariant 1: an event that cannot be finished raises an alert. */
enum terr
ap_alert_event(struct actx *a, const struct inbox_row *row)
{
	char storage[2048], dedup[96];
	struct buf b;
	struct jw w;

	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "type", "event.attention");
	jw_kstr(&w, "state", inbox_state_str(row->state));
	jw_kstr(&w, "provider", row->provider);
	jw_kstr(&w, "event_id", row->event_id);
	jw_kstr(&w, "event_type", row->type);
	jw_kint(&w, "inbox_id", row->id);
	jw_kstr(&w, "reason", row->reason);
	jw_end(&w);
	if (b.err != TERR_OK) {
		buf_reset(&b);
		buf_printf(&b, "{\"type\":\"event.attention\",\"inbox_id\":%lld}",
		    (long long)row->id);
	}
	snprintf(dedup, sizeof(dedup), "alert:inbox:%lld:%s", (long long)row->id,
	    inbox_state_str(row->state));
	return ap_outbox(a, OUTBOX_ALERT, "event.attention", row->user, dedup, &b);
}

enum terr
ap_alert_text(struct actx *a, struct outcome *o, const char *topic, const char *dedup,
    const char *text)
{
	char storage[1024];
	struct buf b;
	struct jw w;

	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "type", topic);
	jw_kstr(&w, "user_id", o->user);
	jw_kint(&w, "inbox_id", o->op.inbox_id);
	jw_kstr(&w, "message", text);
	jw_end(&w);
	return ap_outbox(a, OUTBOX_ALERT, topic, o->user, dedup, &b);
}

enum terr
ap_ensure_user(struct actx *a, struct outcome *o, const char *user)
{
	enum terr rc = store_user_insert(a->s, user, a->now);

	if (rc == TERR_DUP)
		return TERR_OK;
	if (rc != TERR_OK)
		return rc;
	return ap_audit(a, o, "user.create", user, "", "first named by this event");
}

enum terr
ap_notice(struct actx *a, struct outcome *o, const char *topic, int64_t sub_id,
    const char *event_id)
{
	char storage[512], dedup[2 * ID_MAX], num[24];
	struct buf b;
	struct jw w;

	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "type", topic);
	jw_kstr(&w, "user_id", o->user);
	if (sub_id != 0)
		jw_kint(&w, "subscription_id", sub_id);
	jw_ktime(&w, "at", a->now);
	jw_end(&w);
	snprintf(num, sizeof(num), "%lld", (long long)sub_id);
	if (text_key(dedup, sizeof(dedup), "notice", topic, num, event_id, NULL) != TERR_OK)
		return TERR_TOOBIG;
	return ap_outbox(a, OUTBOX_NOTIFY, topic, o->user, dedup, &b);
}

enum terr
ap_fail(struct outcome *o, const char *fmt, ...)
{
	va_list ap;

	o->state = INBOX_FAILED;
	text_copy(o->code, sizeof(o->code), "refused");
	va_start(ap, fmt);
	vsnprintf(o->reason, sizeof(o->reason), fmt, ap);
	va_end(ap);
	return TERR_OK;
}

enum terr
ap_refuse(struct outcome *o, const char *code, const char *fmt, ...)
{
	va_list ap;

	o->state = INBOX_FAILED;
	text_copy(o->code, sizeof(o->code), code);
	va_start(ap, fmt);
	vsnprintf(o->reason, sizeof(o->reason), fmt, ap);
	va_end(ap);
	return TERR_OK;
}
