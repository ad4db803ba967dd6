/*
 * Private to storage: the parameters of a statement (STORE_PARAMS), shared
 * by the engines (store.c binds them to SQLite, pg.c to PostgreSQL) in a
 * header of their own, so that neither engine's module depends on the other
 * for them. store_int.h says how the store's functions take them.
 */
#ifndef TALLY_STORE_PARAM_H
#define TALLY_STORE_PARAM_H

#include <stddef.h>
#include <stdint.h>

enum store_param_kind {
	SP_KIND_TEXT, /* text; NULL binds NULL */
	SP_KIND_OPT,  /* text; NULL or "" binds NULL */
	SP_KIND_I64,  /* integer */
	SP_KIND_ID,   /* a row id; 0 (none) binds NULL, as a foreign key wants */
	SP_KIND_BLOB, /* bytes (blob, v of them); a NULL blob binds an empty one */
};

struct store_param {
	enum store_param_kind kind;
	const char *text;
	const void *blob;
	int64_t v;
};

#define SP_TEXT(x)    ((struct store_param){ .kind = SP_KIND_TEXT, .text = (x) })
#define SP_OPT(x)     ((struct store_param){ .kind = SP_KIND_OPT, .text = (x) })
#define SP_I64(x)     ((struct store_param){ .kind = SP_KIND_I64, .v = (int64_t)(x) })
#define SP_ID(x)      ((struct store_param){ .kind = SP_KIND_ID, .v = (int64_t)(x) })
#define SP_BLOB(p, n) ((struct store_param){ .kind = SP_KIND_BLOB, .blob = (p), .v = (int64_t)(n) })
#define STORE_PARAMS(...)                                                                          \
	(const struct store_param[]){ __VA_ARGS__ },                                               \
	    sizeof((const struct store_param[]){ __VA_ARGS__ }) / sizeof(struct store_param)

#endif
