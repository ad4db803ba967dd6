/*
 * Configuration: environment variables for paths and secrets (each secret
 * may also be given as <NAME>_FILE, a path to read it from), and one JSON
 * file (TALLY_CONFIG) with the product catalog and policies. docs/
 * documents every variable and key (docs/configuration.md indexes them).
 * Loaded once at process start; invalid configuration fails there with a
 * message naming the variable or key.
 */
#ifndef TALLY_CFG_H
#define TALLY_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "cfg/cfg_types.h"

/*
 * Load env and the config file into c. On failure returns TERR_CONFIG (or
 * TERR_IO/TERR_NOMEM) with a message naming the variable or key in
 * why[whysize]. Release with cfg_release in both cases.
 */
enum terr cfg_load(struct cfg *c, char *why, size_t whysize);

/*
 * Only the environment: paths and secrets, defaults for the rest (tally
 * migrate needs no catalog). Every documented constraint on a variable is
 * checked here, for each entry of a rotation list (TERR_CONFIG naming the
 * variable and the entry's place, never its value): STRIPE_WEBHOOK_SECRET
 * entries start with whsec_, TALLY_JWT_SECRET entries have at least 32
 * bytes, TELEGRAM_WEBHOOK_SECRET is 1-256 of A-Z a-z 0-9 _ -,
 * TALLY_SYNCHRONOUS is full or normal.
 */
enum terr cfg_load_env(struct cfg *c, char *why, size_t whysize);

/* Parse config text directly (tests, fuzzing). Env is not read. */
enum terr cfg_parse(struct cfg *c, const char *text, size_t n, char *why, size_t whysize);

/* Set the built-in defaults (no products). */
void cfg_defaults(struct cfg *c);

/* Free the catalog and wipe secrets. */
void cfg_release(struct cfg *c);

/*
 * Read the secret NAME from the environment, or from the file named by
 * NAME_FILE (one trailing line ending, \n or \r\n, stripped). Both set is an error. Returns
 * TERR_OK with out[0] == '\0' when neither is set.
 */
enum terr cfg_secret(const char *name, char *out, size_t size, char *why, size_t whysize);

/* The product a provider's id maps to, or NULL. */
const struct product *cfg_match(const struct cfg *c, const char *provider, const char *ext_id);
/* The product with this catalog id, or NULL. */
const struct product *cfg_product(const struct cfg *c, const char *id);

const char *product_kind_str(enum product_kind k);

#endif
