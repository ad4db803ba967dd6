#include <stddef.h>

#include "base/err.h"

static const char *const names[TERR__MAX] = {
	[TERR_OK] = "ok",
	[TERR_NOMEM] = "out of memory",
	[TERR_TOOBIG] = "input too large",
	[TERR_INVAL] = "malformed input",
	[TERR_AUTH] = "authentication failed",
	[TERR_STALE] = "timestamp outside tolerance",
	[TERR_CONFIG] = "configuration error",
	[TERR_DB] = "storage error",
	[TERR_BUSY] = "storage busy",
	[TERR_DUP] = "duplicate",
	[TERR_NOTFOUND] = "not found",
	[TERR_IO] = "i/o error",
	[TERR_SCHEMA] = "database schema version mismatch",
	[TERR_CONFLICT] = "conflict with stored state",
	[TERR_SHORT] = "insufficient credits",
	[TERR_INTERNAL] = "internal error",
	[TERR_RETRY] = "transaction conflict: retry",
};

const char *
err_str(enum terr e)
{
	if ((int)e < 0 || e >= TERR__MAX || names[e] == NULL)
		return "unknown error";
	return names[e];
}
