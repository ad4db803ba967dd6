/*
 * What every scheduled job shares (jobs/<name>.c -> bin/tally-<name>):
 * arguments, the lease, the log lines, batches of its own events through
 * apply, the report and the exit status.
 *
 *   tally-<name> [--now TIME] [--dry-run] [--limit N] [--json] [its own options]
 *
 *   --now TIME  the job's clock, RFC 3339 ("2026-12-01T00:00:00Z") or
 *               "@<unix seconds>": what is due at TIME is done, as if it
 *               were TIME (tests, catch-up). Default: the wall clock.
 *   --dry-run   report what would be done and change nothing (no lease).
 *   --limit N   at most N items of work this run, 1 to 1000000.
 *   --json      the report on stdout as one JSON document.
 *
 * A job changes state only through apply, with events of source "job"
 * whose ids it derives from the work ("expire:<subscription>:<end>"), so a
 * second runner, or a rerun after a kill, finds the first in the inbox and
 * nothing happens twice (DESIGN.md invariant 10). The deliver job's outbox
 * states are the one exception (store_jobs.h).
 *
 * The lease (the jobs table) keeps runs of one job apart: a second copy
 * started while one works exits 0 at once and says so. It lasts
 * JOB_LEASE_TTL_MS and is renewed while the job works (job_tick). A lease
 * whose runner died on this machine (the same boot and pid namespace, and
 * that process gone) is taken over at once; any other lapses after its
 * ttl. Leases run on the wall clock, never on --now. Release records the
 * run (last_success_at when it succeeded) for /metrics.
 *
 * Logs: one JSON line at the start and one at the end with the counts.
 * Exit: 0 success (also when another runner holds the lease), 1 failure
 * (storage, an item refused, a provider unreachable), 2 usage.
 */
#ifndef TALLY_JOB_H
#define TALLY_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/json.h"
#include "cfg/cfg.h"
#include "core/apply.h"
#include "core/op.h"
/*
 * The storage a job uses: the connection (store.h), users, links, the
 * inbox, subscriptions and payments (store_rows.h), the runs of jobs
 * (store_access.h store_jobs_list), due work and the outbox (store_jobs.h),
 * the tasks owed to providers (store_tasks.h).
 * The jobs (jobs/) reach storage through this header, never including store/
 * themselves (DESIGN.md, Layout).
 */
#include "store/store.h"
#include "store/store_access.h"
#include "store/store_jobs.h"
#include "store/store_rows.h"
#include "store/store_tasks.h"

/* A crashed runner's lease lapses after this; a working one renews it a third of the way in. */
#define JOB_LEASE_TTL_MS (120 * 1000)
#define JOB_LIMIT_MAX    1000000
/* Events applied in one transaction (one fsync). */
#define JOB_BATCH        64
/* Items listed in one report (the counts cover all). */
#define JOB_REPORT_MAX   10000
#define JOB_COUNTERS_MAX 32
#define JOB_OPTS_MAX     4
#define JOB_OWNER_MAX    64
/* The report on stdout. */
#define JOB_OUT_MAX      (8 * 1024 * 1024)

/* job_init's answer when the job should run (else it is the exit status). */
#define JOB_RUN (-1)

struct job_counter {
	char name[48];
	int64_t n;
};

/* One line of the report. NULL fields are left out. */
struct job_item {
	const char *action;  /* "credits.reset", "deliver", "replay", "drift" ... */
	const char *subject; /* "subscription 12", "outbox 7" ... */
	const char *user;
	const char *event_id; /* the job's own event, when it applies one */
	const char *result;   /* "applied", "ignored", "duplicate", "would apply", "sent" ... */
	const char *reason;
	const char *provider; /* reconcile: whose view */
	const char *tally;    /* reconcile: tally's view */
	const char *theirs;   /* reconcile: the provider's */
};

/* A queued event and what to say of it. */
struct job_slot {
	char subject[96];
	char user[USER_ID_MAX + 1];
	char action[32];
};

struct job {
	const char *name; /* "renewals" */
	struct cfg cfg;
	struct store *s;
	int64_t now; /* the job's clock */
	int dry_run;
	int json;
	int64_t limit;
	int64_t done; /* items taken this run, against limit */
	const char *opt_names[JOB_OPTS_MAX];
	const char *opt_values[JOB_OPTS_MAX];
	size_t nopts;
	char owner[JOB_OWNER_MAX];
	int leased;
	int64_t renew_at;       /* wall clock */
	int64_t t0;             /* wall clock at start */
	int failed;             /* exit 1 */
	int stop;               /* take no more work: storage failed or the lease was lost */
	char error[REASON_MAX]; /* the first failure */
	struct job_counter counters[JOB_COUNTERS_MAX];
	size_t ncounters;
	int64_t listed;
	struct buf out; /* the report: text, or the items of the JSON document */
	struct jw w;
	struct bev *ev; /* the batch */
	struct apply_result *res;
	struct buf *bodies;
	struct job_slot *slots;
	size_t n;
};

/*
 * Parse argv (opts: the job's own options that take a value, NULL-ended,
 * or NULL), load the configuration, open the database and take the lease.
 * JOB_RUN when the job should run; else the exit status (0 when another
 * runner holds the lease, 1 on failure, 2 on a usage error), with
 * everything released. limit is the default of --limit.
 */
int job_init(struct job *j, const char *name, int argc, char **argv, const char *const *opts,
    int64_t limit);

/* The value of the job's own option --name, or NULL. */
const char *job_opt(const struct job *j, const char *name);

/* 1 while the run may take more work: under its limit, nothing failed, the lease held. */
int job_more(struct job *j);

/* Renew the lease when due. 0, or -1 when it was lost (the job must stop; it failed). */
int job_tick(struct job *j);

/* Add n to the counter name (created at the first call). */
void job_count(struct job *j, const char *name, int64_t n);

/* Add a line to the report. */
void job_report(struct job *j, const struct job_item *it);

/* Record a failure (exit 1): logged, and in the report. */
void job_fail(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Queue one of the job's own events (a->source, ->at and ->operator_ are
 * set here) about subject; applied JOB_BATCH at a time. An event already
 * in the inbox is reported "duplicate" and not queued; with --dry-run
 * nothing is applied ("would apply"). Counts one item against the limit.
 * 0, or -1 when storage failed (the job failed).
 */
int job_op(struct job *j, struct op_action *a, const char *subject);

/*
 * Queue a provider's event, body[0..n) in its webhook shape (reconciliation:
 * fetched from the provider's API), parsed by provider_parse and applied
 * through the webhook's path, reported under action. An event already in
 * the inbox is reported "duplicate"; one that cannot be parsed "unreadable"
 * (the job fails). Counts one item. 0, or -1 when storage failed.
 */
int job_apply_raw(struct job *j, const char *provider, const char *body, size_t n,
    const char *action, const char *subject);

/* Apply what is queued. 0, or -1 when storage failed. */
int job_flush(struct job *j);

/* A page of due work after *pos up to until (a store_due_* function of store_jobs.h, with arg). */
typedef enum terr (*job_page_fn)(struct store *s, const void *arg, struct store_pos *pos,
    int64_t until, void *rows, size_t max, size_t *n);

/*
 * Call fn(j, row, arg) for each row (of rowsize bytes) that page(page_arg) gives after
 * start up to until, a page at a time, while the job may take more work;
 * what fn queued is applied before the next page is read (the walk then
 * sees it done). 0, or -1 when storage failed or fn returned -1.
 */
int job_walk(struct job *j, job_page_fn page, const void *page_arg, size_t rowsize,
    struct store_pos start, int64_t until, int (*fn)(struct job *j, const void *row, void *arg),
    void *arg);

/* The same over the subscriptions of walk w (store_due_subs). */
int job_walk_subs(struct job *j, enum due_subs w, struct store_pos start, int64_t until,
    int (*fn)(struct job *j, const struct sub_row *row, void *arg), void *arg);

/* Fill a with one of the job's own actions: id, action, user, reason; the rest zero. */
void job_action(struct op_action *a, const char *id, const char *action, const char *user,
    const char *reason);

/*
 * Flush, release the lease (recording the run), log the end line, print the
 * report, release everything. Returns the exit status.
 */
int job_finish(struct job *j);

/* The wall clock's owner id of this process (exposed for tests of takeover). */
void job_owner_id(char out[JOB_OWNER_MAX]);
/* 1 when owner is a runner of this machine's boot and pid namespace that no longer runs. */
int job_owner_gone(const char *owner);

#endif
