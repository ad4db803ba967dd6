/*
 * A Google Play purchase read now from the Android Publisher API
 * (google_api.h) and written as tally's envelope (google_push.h): for a
 * push's purchase (the webhook), and for a purchase read on its own (the
 * purchases the app hands in, reconciliation).
 */
#ifndef TALLY_GOOGLE_FETCH_H
#define TALLY_GOOGLE_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "providers/google/google_push.h"

struct google_api;

/*
 * Read the purchase now: call (GOOGLE_CALL_SUB: token; GOOGLE_CALL_PRODUCT:
 * product and token) through api. Google's answer is kept when it says
 * something about the purchase: TERR_OK with *status 200 and the answer (a
 * JSON object, else TERR_IO) in answer, or *status 404 (no such purchase),
 * 410 (expired more than 60 days ago) or 400 (Google refused the request)
 * and answer empty. TERR_AUTH (tally's credentials or Play Console
 * permissions) and TERR_IO (429, 5xx, no answer) and the rest with why:
 * nothing to keep, ask again later.
 */
enum terr google_fetch(struct google_api *api, enum google_call call, const char *product,
    const char *token, struct buf *answer, int *status, char *why, size_t whysize);

/*
 * The envelope of push p with its purchase read now (google_fetch, or no
 * call for a voided purchase, a refund review or a test), its id id, into
 * out. google_fetch's errors.
 */
enum terr google_envelope_push(struct google_api *api, const struct google_push *p, const char *id,
    int64_t now, struct buf *out, char *why, size_t whysize);

/*
 * The envelope of a purchase fetched now without a notification (the app
 * hands a purchase in; reconciliation finds one drifted): call
 * GOOGLE_CALL_SUB (product: the subscription id, or NULL) or
 * GOOGLE_CALL_PRODUCT (product required), its event id id (the caller's:
 * one per purchase and moment it is read), into out. Mapped as the state
 * Google gives at now (google_map.h). google_fetch's errors, and TERR_INVAL
 * for a token or product that is not an id tally keeps.
 */
enum terr google_envelope_purchase(struct google_api *api, enum google_call call,
    const char *product, const char *token, const char *id, int64_t now, struct buf *out, char *why,
    size_t whysize);

#endif
