/*
 * The numbered, forward-only migrations of migrations/NNNN_name.sql (SQLite)
 * and migrations/pg/NNNN_name.sql (PostgreSQL: the same versions in its
 * dialect), embedded into the library at build time (build.sh generates
 * build/gen/migrations.c), so `tally migrate` needs no files beside the binary.
 */
#ifndef TALLY_MIGRATIONS_H
#define TALLY_MIGRATIONS_H

struct migration {
	int version;      /* the file's number: 0001_init.sql is 1 */
	const char *name; /* the file's name without .sql */
	const char *sql;  /* its text */
};

/* In ascending version order. */
extern const struct migration tally_migrations[];
extern const int tally_nmigrations;
/* PostgreSQL's, in ascending version order (lib/store/pg.c applies them). */
extern const struct migration tally_pg_migrations[];
extern const int tally_pg_nmigrations;

#endif
