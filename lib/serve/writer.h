/*
 * Group commit (DESIGN.md, the write path). Worker threads read, verify and
 * parse requests in parallel and hand each normalized event to the one
 * writer of the process; the writer applies every event waiting at that
 * moment in ONE transaction (each under its own savepoint, so a bad event
 * rolls back alone), commits once with one fsync, and only then wakes each
 * worker to answer. A 2xx still means "committed to disk".
 *
 * WAL checkpoints run in a thread of their own with its own connection,
 * never in the writer and never in a request: the writer only counts WAL
 * pages (store_wal_watch) and signals it past a size; it also runs when idle.
 *
 * Writers of several processes on one database take turns through the
 * store's lock file (store_begin), which wakes the next one at once.
 */
#ifndef TALLY_WRITER_H
#define TALLY_WRITER_H

#include "base/event.h"
#include "cfg/cfg.h"
#include "core/apply.h"

struct writer;

/* Events applied in one transaction at most; more wait for the next one. */
#define WRITER_BATCH_MAX          128
/*
 * New WAL frames after which the checkpoint thread is woken (2 MiB of 4 KiB
 * pages). It copies them (PASSIVE, at most WRITER_CHECKPOINT_PASSES passes,
 * until no more than WRITER_CHECKPOINT_GAP frames are left) and then, once
 * the WAL holds WRITER_RESTART_PAGES frames, copies the last few between two
 * write transactions so that the WAL starts over (store_checkpoint_between).
 * That holds the writers back for one copy and fsync of a few pages, so
 * often and small beats rare and large: on the 2-core bench machine, waking
 * every 4000 frames gave p99 21 ms, every 1000 12 ms, every 500 10 ms, every
 * 250 9 ms at the same rate within noise; 500 keeps the checkpointer's own
 * fsyncs at a few hundred a second at saturation.
 */
#define WRITER_CHECKPOINT_PAGES   500
#define WRITER_CHECKPOINT_PASSES  4
#define WRITER_CHECKPOINT_GAP     256
#define WRITER_RESTART_PAGES      WRITER_CHECKPOINT_PAGES
/* An idle process checkpoints what is left after this long (ms). */
#define WRITER_CHECKPOINT_IDLE_MS 1000

/*
 * Open the writer's and the checkpointer's connections to c->db_path and
 * start both threads. c must outlive the writer. Release with writer_stop.
 */
enum terr writer_start(struct writer **out, const struct cfg *c);

/*
 * Apply e in the next batch and wait until that batch committed or failed.
 * res says what became of e (res->err != TERR_OK: nothing was committed).
 * Safe from any number of threads; e and res must stay valid until it returns.
 */
void writer_apply(struct writer *w, struct bev *e, struct apply_result *res);

/* Events applied and transactions committed so far (for logs and tests). */
void writer_stats(struct writer *w, int64_t *events, int64_t *transactions);
/* Times the WAL started over from its beginning since writer_start. */
int64_t writer_restarts(struct writer *w);

/* Apply what is queued, stop both threads, close the connections, free w. */
void writer_stop(struct writer *w);

#endif
