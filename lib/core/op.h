/*
 * tally's own events (prefix op_: an operation by someone other than a
 * provider). What an operator (the CLI, the console), the app
 * (the API) or a job does is recorded in the inbox like a provider's event,
 * as a small JSON document, and applied through the same apply path, so
 * every change has one history and can be replayed or rebuilt from it.
 *
 * Body: {"id":"op_<hex>","action":"credits.grant","user_id":"...",
 *        "amount":N,"expires_at":MS,"reason":"...","operator":"...","at":MS,
 *        ... the action's own fields, "idempotency_key" when the app gave one}
 * The inbox provider is the source: "operator", "app" or "job". Event ids
 * are random unless the caller names one: idempotent callers do (the API's
 * "spend:<user>:<key>", a job's "expire:<subscription>:<end>"), so a second
 * request or a second runner finds the first in the inbox. An id of several
 * parts is a text_key (text.h): no two lists of parts give one id, whatever
 * the parts hold (a user id may hold ':').
 *
 * Actions (fields beyond user, amount, expires_at, reason):
 *   credits.grant, credits.revoke        admin credits
 *   links.add, links.remove              link {provider, kind, id}
 *   promo.credits                        credits with an optional expiry (source promo)
 *   promo.entitlement                    name, ends_at (0: no end)
 *   subscription.set                     sub_id, state
 *   user.register                        the user, and the free tier (app)
 *   credits.spend                        amount, request_hash (app; answered)
 *   trial.start                          the app-managed trial (app)
 *   referrer.set                         referrer (app)
 *   order.create, order.cancel           order {...} (app)
 *   order.expire                         order {id}: not paid before it expired (job)
 *   plan.buy                             name: a product bought from the balance (app)
 *   plan.renew                           sub_id: renewed from the balance (job)
 *   subscription.expire                  sub_id: its access has ended (job)
 *   credits.reset                        sub_id, ends_at: a credit period began at ends_at (job)
 *   allowance.reset                      the free tier's monthly allowance (job)
 *   credits.expire                       grants past their expiry (job)
 *   notice                               name: topic, key: dedup key, sub_id, ends_at (job reminders)
 */
#ifndef TALLY_OP_H
#define TALLY_OP_H

#include <stdint.h>

#include "base/buf.h"
#include "base/event.h"

#define OP_OPERATOR "operator"
#define OP_APP      "app"
#define OP_JOB      "job"

/* The order of order.create / order.cancel. */
struct op_order {
	const char *id;
	const char *provider;
	const char *product;
	int64_t amount;
	const char *currency;
	int64_t expires_at;
	const char *provider_ref; /* NULL or "" when the provider has not made it yet */
};

struct op_action {
	const char *source; /* OP_OPERATOR (also when NULL), OP_APP, OP_JOB */
	const char *id;     /* the event id; NULL: a fresh random one */
	const char *action;
	const char *user;
	int64_t amount;
	int64_t expires_at; /* grants: 0 = never */
	const char *reason;
	const char *operator_; /* who: an operator's name, an API key's id, a job's name */
	int64_t at;
	const char *link_provider, *link_kind, *link_id; /* links.* */
	int64_t sub_id;           /* subscription.*, plan.renew, credits.reset */
	const char *state;        /* subscription.set */
	const char *name;         /* promo.entitlement, plan.buy, notice (topic) */
	int64_t ends_at;          /* promo.entitlement, credits.reset */
	const char *referrer;     /* referrer.set */
	const char *request_hash; /* credits.spend */
	const char *key;          /* notice: its dedup key */
	const char *idem_key;     /* the app's idempotency_key, a part of the id (api.c) */
	const struct op_order *order;
};

/* Write the event body of a into body. */
enum terr op_build(const struct op_action *a, struct buf *body);

/* Parse the body of an event of source ("operator", "app", "job") into e (e->raw points into body). */
enum terr op_parse(const char *source, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize);

/*
 * Build a's body into body and parse it into e (e->raw points into body):
 * the event exactly as a replay will see it. TERR_INVAL with why.
 */
enum terr op_event(const struct op_action *a, struct buf *body, struct bev *e, char *why,
    size_t whysize);

/*
 * 1 when two event bodies of op_build (a new request's, and the one stored
 * under the same event id) are the same request: every field equal (action,
 * user, amount, reason, link, name, ...) but those that tell one sending of
 * it from another: the id and the idempotency_key (the key the two were
 * found by: equal when both are there; events stored before bodies named
 * the key do not), the operator (the API key or admin that sent it), at,
 * and request_hash (derived from the rest, in a form that changed over
 * versions). 0 otherwise, also when either is not such a body. A replay is
 * answered as the first request only when this holds; another request under
 * the same key is a conflict.
 */
int op_same_request(const char *a, size_t an, const char *b, size_t bn);

/* 1 when provider is one of tally's own sources. */
int op_is_source(const char *provider);

#endif
