/*
 * Razorpay entities fetched from its API turned into the events its webhooks
 * would have carried (razorpay_sync.c): for the Checkout callback and
 * reconciliation.
 */
#ifndef TALLY_RAZORPAY_SYNC_H
#define TALLY_RAZORPAY_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/*
 * The event Razorpay's webhook of type would have carried, made of fetched
 * entities, into body (reset here): {"entity":"event","id":id,"event":type,
 * "contains":[...],"payload":{"payment":{"entity":payment} (when payment is
 * not NULL), what:{"entity":ent}},"created_at":now}. razorpay_parse reads it
 * (its id is the body's: no X-Razorpay-Event-Id). body->err says if it fit.
 */
void razorpay_fetched_event(struct buf *body, const char *id, const char *type, const char *payment,
    const char *what, const char *ent, int64_t now);

/*
 * The i-th item of a collection (razorpay_order_payments' answer) into out
 * (reset here). TERR_OK; TERR_NOTFOUND past the last; TERR_INVAL when it is
 * not a collection; TERR_TOOBIG; TERR_NOMEM.
 */
enum terr razorpay_collection_item(const char *collection, size_t n, size_t i, struct buf *out);

/*
 * The id (when id is not NULL) and status of a fetched entity ("" when it
 * has none that fits). TERR_OK or TERR_INVAL (not JSON).
 */
enum terr razorpay_entity_fields(const char *ent, size_t n, char *id, size_t idsize, char *status,
    size_t size);

#endif
