/*
 * The project's one error enum, enum terr ("tally error"; err_str names one).
 * Values are only ever appended; 0 is success.
 * lib returns these and never exits; only a main() decides to exit.
 */
#ifndef TALLY_ERR_H
#define TALLY_ERR_H

enum terr {
	TERR_OK = 0,
	TERR_NOMEM,    /* allocation failed */
	TERR_TOOBIG,   /* input past a limit (tally_limits.h) */
	TERR_INVAL,    /* malformed input */
	TERR_AUTH,     /* signature or credential did not verify */
	TERR_STALE,    /* timestamp outside the tolerance window */
	TERR_CONFIG,   /* configuration missing or invalid */
	TERR_DB,       /* storage failed: nothing was committed */
	TERR_BUSY,     /* storage locked past the busy timeout */
	TERR_DUP,      /* a UNIQUE key already exists (not an error for callers that dedup) */
	TERR_NOTFOUND, /* no such row */
	TERR_IO,       /* read/write of a file or stream failed */
	TERR_SCHEMA,   /* database not migrated to the version this build expects */
	TERR_CONFLICT, /* input contradicts stored state (e.g. an id linked to another user) */
	TERR_SHORT,    /* not enough credits */
	TERR_INTERNAL, /* a bug: an invariant of the code itself failed */
	TERR_RETRY,    /* the transaction lost to a concurrent one (serialization failure,
			  deadlock) and was rolled back: run it again from its start */
	TERR__MAX
};

/* A static, human-readable description of e. Never NULL. */
const char *err_str(enum terr e);

#endif
