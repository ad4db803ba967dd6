/*
 * The user document: what a user may do and why. `tally user show ID --json`
 * and the API's GET /v1/users/{id} return exactly this document; the README
 * documents it field by field. report_user_text renders the same facts for
 * people.
 */
#ifndef TALLY_REPORT_H
#define TALLY_REPORT_H

#include <stdint.h>

#include "buf.h"
#include "cfg.h"
#include "store.h"

/* Append the JSON document of user at now to out. TERR_NOTFOUND for an unknown user. */
enum terr report_user_json(struct store *s, const struct cfg *c, const char *user, int64_t now,
    struct buf *out);

/* The same as text for a terminal. */
enum terr report_user_text(struct store *s, const struct cfg *c, const char *user, int64_t now,
    struct buf *out);

#endif
