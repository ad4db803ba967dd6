/*
 * A real database for a unit test: a fresh directory of its own under
 * $TMPDIR (/tmp when unset) holding tally.db, migrated to the newest schema.
 *
 *	struct t_db d;
 *	struct store *s = t_db_open(&d);	(NULL when it cannot be made)
 *	...
 *	t_db_drop(&d);				(closes it, removes the files and the directory)
 */
#ifndef TALLY_T_DB_H
#define TALLY_T_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"

struct t_db {
	char dir[256];
	char path[300];
	struct store *s;
};

/* The file beside the database named path + suffix ("-wal", ".lock"), into out. */
static inline void
t_db_file(const struct t_db *d, const char *suffix, char *out, size_t size)
{
	snprintf(out, size, "%s%s", d->path, suffix);
}

/* A new empty directory for d; 0, or -1. */
static inline int
t_db_dir(struct t_db *d)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(d->dir, sizeof(d->dir), "%s/tally-unit-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(d->dir) == NULL)
		return -1;
	snprintf(d->path, sizeof(d->path), "%s/tally.db", d->dir);
	d->s = NULL;
	return 0;
}

static inline struct store *
t_db_open(struct t_db *d)
{
	int from, to;

	if (t_db_dir(d) != 0)
		return NULL;
	if (store_open(&d->s, d->path, STORE_MIGRATE) != TERR_OK ||
	    store_migrate(d->s, 0, &from, &to) != TERR_OK) {
		store_close(d->s);
		d->s = NULL;
	}
	return d->s;
}

static inline void
t_db_drop(struct t_db *d)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal", ".lock" };
	char p[320];
	size_t i;

	store_close(d->s);
	d->s = NULL;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		t_db_file(d, suffixes[i], p, sizeof(p));
		unlink(p);
	}
	rmdir(d->dir);
}

#endif
