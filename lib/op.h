/*
 * Operator actions as events. What an operator does (tally credits grant
 * ...) is recorded in the inbox like a provider's event, as a small JSON
 * document, and applied through the same apply path, so every change has
 * one history and can be replayed or rebuilt from it.
 *
 * Body: {"id":"op_<hex>","action":"credits.grant","user_id":"...",
 *        "amount":N,"expires_at":MS,"reason":"...","operator":"...","at":MS,
 *        "link":{"provider":"stripe","kind":"customer","id":"cus_..."}}
 * Actions: credits.grant, credits.revoke (amount, expires_at), links.add,
 * links.remove (link).
 */
#ifndef TALLY_OP_H
#define TALLY_OP_H

#include <stdint.h>

#include "buf.h"
#include "event.h"

struct op_action {
	const char *action; /* credits.grant, credits.revoke, links.add, links.remove */
	const char *user;
	int64_t amount;
	int64_t expires_at; /* grants: 0 = never */
	const char *reason;
	const char *operator_; /* who: a name, recorded as "operator:<name>" */
	int64_t at;
	const char *link_provider, *link_kind, *link_id; /* links.* */
};

/* Write the event body of a into body, with a fresh random id. */
enum terr op_build(const struct op_action *a, struct buf *body);

/* Parse an operator event body into e (e->raw points into body). */
enum terr op_parse(const char *body, size_t n, struct bev *e, char *why, size_t whysize);

#endif
