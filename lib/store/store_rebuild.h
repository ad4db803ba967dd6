/*
 * Storage for `tally rebuild`: compare two databases' logical content, and
 * make a throwaway database fast to fill.
 */
#ifndef TALLY_STORE_REBUILD_H
#define TALLY_STORE_REBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/*
 * Every row of this database's tables not in the one at path, and the
 * reverse: fn(arg, table, "live" | "rebuilt", row) for at most max_rows of
 * each side of each table; *ndiff counts them all.
 */
enum terr store_diff(struct store *s, const char *path, size_t max_rows,
    void (*fn)(void *arg, const char *table, const char *only_in, const char *row), void *arg,
    int64_t *ndiff);

/* synchronous = OFF: for a database that is thrown away after (a rebuild). */
enum terr store_fast_writes(struct store *s);

#endif
