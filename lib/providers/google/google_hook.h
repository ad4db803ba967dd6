/*
 * Google Play's webhook calls (hook.h struct hook_calls), named by
 * bin/tally-google rather than the provider table: they call out (Google's
 * key set, the Android Publisher API), and only that endpoint should link
 * them. The flow they take part in: google.h.
 */
#ifndef TALLY_GOOGLE_HOOK_H
#define TALLY_GOOGLE_HOOK_H

#include <stddef.h>

#include "base/buf.h"
#include "cfg/cfg.h"
#include "providers/hook.h"

/*
 * The webhook's state: Google's key set cache (google_keys.h, one per
 * process: never a fetch per request) and the API client. TERR_CONFIG with
 * why (every request then refused 503) when the google section or
 * GOOGLE_SERVICE_ACCOUNT_FILE is missing; the API client's other errors
 * fail the start.
 */
enum terr google_hook_init(void **state, const struct cfg *c, char *why, size_t whysize);
void google_hook_fini(void *state);

/*
 * The push's Authorization header (q->sig) against the held key set,
 * fetched when there is none or it expired; a token naming a kid the set
 * lacks makes one refetch (at most one per GOOGLE_KEYS_REFETCH_MIN) and is
 * verified again. TERR_OK; TERR_AUTH, TERR_STALE (exp, iat) or
 * TERR_NOTFOUND (a kid Google does not publish) with *why; TERR_IO when no
 * key set can be had (Google's keys did not answer: 503, Pub/Sub resends).
 */
enum terr google_hook_verify(void *state, const struct cfg *c, const struct hook_req *q,
    const char **why);

/*
 * The body to store for the verified push q (stored under id, the
 * google_push_event_id of its body), into out: the envelope with the
 * purchase fetched now (google_push.h), or, for a push that cannot be read,
 * the body as it came. The fetch's errors (TERR_AUTH, TERR_IO, ...) with
 * why: nothing is stored.
 */
enum terr google_prepare(void *state, const struct cfg *c, const struct hook_req *q, const char *id,
    struct buf *out, char *why, size_t whysize);

/* The four above, for the endpoint's handler (serve/handler.h .calls). */
extern const struct hook_calls google_hook_calls;

#endif
