/*
 * What the API's routes share (api_action.c), for api_users.c and
 * api_checkout.c: the request's fields, the ids of idempotent events, one of
 * tally's own events applied for the request, and the user document as the
 * answer. Each function that answers sends the answer itself through q->r.
 */
#ifndef TALLY_API_ACTION_H
#define TALLY_API_ACTION_H

#include <stddef.h>
#include <stdint.h>

#include "api/api_req.h"
#include "base/err.h"
#include "core/op.h"

/*
 * Answer the user document with status: to a key, the same as `tally user
 * show --json`; to the user's own token, its user view (report.h). 404 when
 * there is no such user, 503 when it cannot be read.
 */
void api_reply_user(struct api_req *q, int status);

/*
 * Apply a (source app, by the key, at now). 0 when it applied, or when it
 * is a replay of the same request; else the answer was sent (503 not
 * committed, the refusal's status and code, or 409 idempotency_conflict).
 */
int api_apply_action(struct api_req *q, struct op_action *a);

/*
 * A string field of the body: NULL when absent; *bad set when present but
 * not text of 1..max bytes. The text belongs to q->body.
 */
const char *api_field(struct api_req *q, const char *key, size_t max, int *bad);

/* A time field: RFC 3339 text, in ms; 0 when absent; *bad set when malformed. */
int64_t api_time_field(struct api_req *q, const char *key, int *bad);

/*
 * The id of the event of what for the user and key into out (text_key, or
 * with digest crypto_key past ID_MAX); TERR_TOOBIG when it does not fit.
 * Sets q->legacy to the id of before the parts were escaped when it differs.
 */
enum terr api_key_id(struct api_req *q, const char *what, const char *key, int digest,
    char out[ID_MAX]);

/*
 * An idempotent event's id (api_key_id) in out, or NULL (a fresh id) without
 * an idempotency_key; *keyp the key (text of q->body); *bad set when it is
 * malformed or too long.
 */
const char *api_idem_id(struct api_req *q, const char *what, char *out, size_t size,
    const char **keyp, int *bad);

#endif
