/*
 * The user document: what a user may do and why. `tally user show ID --json`
 * and the API's GET /v1/users/{id} (with a key) return exactly this
 * document; a user's own token gets its user view. docs/user-document.md has both
 * field by field. report_user_text renders the same facts for
 * people.
 */
#ifndef TALLY_REPORT_H
#define TALLY_REPORT_H

#include <stdint.h>

#include "base/buf.h"
#include "cfg/cfg.h"
#include "store/store.h"

/*
 * Who reads the document. REPORT_FULL: operators (the CLI, the console) and
 * API keys of scope read or admin; every field, as docs/user-document.md's table.
 * REPORT_USER: the user's own token; what the user bought, holds and spent,
 * in the user's words, and nothing written for or by the staff: no audit
 * rows, no operator or API key (actors), no reasons but the app's own for a
 * spend, no provider ids (links, provider_id), no inbox or ledger ids. The
 * docs/user-document.md lists both, field by field.
 */
enum report_view { REPORT_FULL, REPORT_USER };

/* Append the JSON document of user at now to out. TERR_NOTFOUND for an unknown user. */
enum terr report_user_json(struct store *s, const struct cfg *c, const char *user, int64_t now,
    struct buf *out);

/* The same for view (report_user_json is REPORT_FULL). */
enum terr report_user_json_view(struct store *s, const struct cfg *c, const char *user, int64_t now,
    enum report_view view, struct buf *out);

/* The same as text for a terminal. */
enum terr report_user_text(struct store *s, const struct cfg *c, const char *user, int64_t now,
    struct buf *out);

#endif
