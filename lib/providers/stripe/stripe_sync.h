/*
 * Stripe's REST API for reconciliation (PROVIDERS.md 2.5), over httpc with
 * the secret key STRIPE_API_KEY and base stripe.api_base: the events Stripe
 * keeps (the last 30 days) since a time, and one subscription as it stands.
 *
 * An event fetched here is the same object a webhook delivers (same id), so
 * stripe_parse reads it and the inbox drops the ones the webhook brought
 * already. A fetched subscription is applied as a customer.subscription.updated
 * event made here (stripe_sync_event), read by the same parser.
 *
 * Errors of every call: TERR_CONFIG no key; TERR_AUTH 401/403 (the key was
 * refused); TERR_BUSY 429; TERR_IO no answer or a 5xx; TERR_NOTFOUND 404;
 * TERR_INVAL another 4xx or an answer that cannot be read; why says which
 * (Stripe's error message when it sent one), never with the key.
 */
#ifndef TALLY_STRIPE_SYNC_H
#define TALLY_STRIPE_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "cfg/cfg.h"

/* Events fetched in one call at most (100 pages of 100); past it TERR_TOOBIG. */
#define STRIPE_SYNC_EVENTS_MAX 10000
/* Their text at most (a few KB each). */
#define STRIPE_SYNC_TEXT_MAX   (64 * 1024 * 1024)

/*
 * GET /v1/events?created[gt]=<since>&types[]=... (the types tally reads,
 * docs/stripe.md), every page (starting_after), into out (buf_init'ed by the
 * caller, max at least STRIPE_SYNC_TEXT_MAX): each event's JSON text
 * (compact: no newline in it) followed by '\n', newest first as Stripe lists
 * them (read them from the end to apply them oldest first); *n of them. A
 * failure part-way leaves out empty.
 */
enum terr stripe_sync_events(const struct cfg *c, int64_t since, struct buf *out, size_t *n,
    char *why, size_t whysize);

/* GET /v1/subscriptions/{id}: the object's JSON text into out. */
enum terr stripe_sync_subscription(const struct cfg *c, const char *id, struct buf *out, char *why,
    size_t whysize);

/*
 * The body of a customer.subscription.updated event with id, created at
 * (ms, written in seconds as Stripe does) and the subscription object's
 * JSON text sub (its livemode copied). TERR_INVAL when sub is not an object.
 */
enum terr stripe_sync_event(const char *id, int64_t at, const char *sub, struct buf *out);

#endif
