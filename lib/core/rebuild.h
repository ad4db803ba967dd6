/*
 * `tally rebuild`: replay every stored inbox event (the providers' and
 * tally's own: operator, app, job) in order, each at the time it was
 * received, into a fresh database, then compare it with the live one. A bug
 * fix can so be checked against the whole history before it ships, and a
 * row that no event explains (a corrupted or hand-edited row) shows up.
 */
#ifndef TALLY_REBUILD_H
#define TALLY_REBUILD_H

#include <stdint.h>

#include "cfg/cfg.h"
#include "store/store.h"

struct rebuild_stats {
	int64_t events;   /* inbox rows replayed */
	int64_t unparsed; /* rows whose stored body no longer parses */
	int64_t diffs;    /* rows that differ */
};

/*
 * Replay live's inbox into a new database at path (created; it must not
 * exist), then diff: fn(arg, table, "live" | "rebuilt", row) for at most
 * max_rows per table and side. TERR_OK when it ran (st->diffs says whether
 * they agree); storage errors otherwise, with why.
 */
enum terr rebuild_run(struct store *live, const struct cfg *c, const char *path, size_t max_rows,
    void (*fn)(void *arg, const char *table, const char *only_in, const char *row), void *arg,
    struct rebuild_stats *st, char *why, size_t whysize);

#endif
