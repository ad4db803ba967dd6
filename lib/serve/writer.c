#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/tm.h"
#include "serve/writer.h"
#include "store/store.h"

/* One waiting request: lives on its worker's stack until the writer posts done. */
struct writer_wait {
	struct bev *e;
	struct apply_result *res;
	sem_t done; /* one semaphore per waiter: the writer wakes exactly this one */
	struct writer_wait *next;
};

struct writer {
	const struct cfg *c;
	struct store *wst; /* the writer's connection */
	struct store *cst; /* the checkpointer's */
	pthread_t wthread, cthread;
	pthread_mutex_t mu;
	pthread_cond_t work; /* the writer waits for jobs */
	pthread_cond_t ckpt; /* the checkpointer waits for pages */
	struct writer_wait *head, *tail;
	int stopping;
	atomic_int wal_pages;
	int ckpt_next; /* WAL size at which to wake the checkpointer (writer thread only) */
	int ckpt_wanted;
	int64_t batches, events, checkpoints; /* for the log line at stop */
	atomic_llong restarts;                /* times the WAL started over */
};

/*
 * After each commit, in the writer thread: wake the checkpointer once per
 * WRITER_CHECKPOINT_PAGES new frames. (The WAL restarts from its beginning
 * at the first commit after a complete checkpoint, so pages falls back.)
 */
static void
on_wal(void *arg, int pages)
{
	struct writer *w = arg;

	if (pages < atomic_load(&w->wal_pages)) {
		w->ckpt_next = WRITER_CHECKPOINT_PAGES;
		atomic_fetch_add(&w->restarts, 1);
	}
	atomic_store(&w->wal_pages, pages);
	if (pages >= w->ckpt_next) {
		w->ckpt_next = pages + WRITER_CHECKPOINT_PAGES;
		pthread_mutex_lock(&w->mu);
		w->ckpt_wanted = 1;
		pthread_cond_signal(&w->ckpt);
		pthread_mutex_unlock(&w->mu);
	}
}

/* The writer's connection again (after a storage failure), watched for WAL growth. */
static enum terr
reopen(struct writer *w)
{
	enum terr rc;

	if ((rc = store_open(&w->wst, w->c->db_path, STORE_RW)) != TERR_OK) {
		w->wst = NULL;
		return rc;
	}
	store_wal_watch(w->wst, on_wal, w);
	return TERR_OK;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct bev *ev[WRITER_BATCH_MAX];
	struct apply_result *res[WRITER_BATCH_MAX];
	struct writer_wait *batch[WRITER_BATCH_MAX];
	size_t n, i;
	enum terr rc;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->head == NULL && w->stopping) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		/* Everything waiting now, in arrival order. */
		for (n = 0; n < WRITER_BATCH_MAX && w->head != NULL; n++) {
			batch[n] = w->head;
			w->head = w->head->next;
		}
		if (w->head == NULL)
			w->tail = NULL;
		pthread_mutex_unlock(&w->mu);

		for (i = 0; i < n; i++) {
			ev[i] = batch[i]->e;
			res[i] = batch[i]->res;
		}
		if (w->wst == NULL && reopen(w) != TERR_OK) {
			for (i = 0; i < n; i++) {
				memset(res[i], 0, sizeof(*res[i]));
				res[i]->err = TERR_DB;
			}
		} else if ((rc = apply_batchv(w->wst, w->c, ev, res, n, tm_now_ms())) != TERR_OK &&
		    rc != TERR_BUSY) {
			/*
			 * The storage failed (disk full, the file read-only, an I/O error):
			 * nothing was committed and each request answers 503. The next
			 * batch starts on a fresh connection, so a fault that was mended
			 * (space freed, permissions restored) mends the writer too.
			 */
			store_close(w->wst);
			w->wst = NULL;
		}
		pthread_mutex_lock(&w->mu);
		w->batches++;
		w->events += (int64_t)n;
		pthread_mutex_unlock(&w->mu);
		/* Only now, committed (or not at all), may each request answer. */
		for (i = 0; i < n; i++)
			sem_post(&batch[i]->done);
	}
	return NULL;
}

static void *
checkpointer_main(void *arg)
{
	struct writer *w = arg;
	struct timespec until;
	int stop = 0, pass, left;

	while (!stop) {
		pthread_mutex_lock(&w->mu);
		if (!w->ckpt_wanted && !w->stopping) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += WRITER_CHECKPOINT_IDLE_MS / 1000;
			until.tv_nsec += (long)(WRITER_CHECKPOINT_IDLE_MS % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->ckpt, &w->mu, &until);
		}
		w->ckpt_wanted = 0;
		stop = w->stopping;
		pthread_mutex_unlock(&w->mu);
		if (atomic_load(&w->wal_pages) == 0)
			continue;
		/*
		 * PASSIVE: never waits for the writer or for readers. Under load the
		 * writer appends while it copies, so copy again while much is left:
		 * each pass has less to do than the one before.
		 */
		for (pass = 0, left = 0; pass < WRITER_CHECKPOINT_PASSES; pass++) {
			if (store_checkpoint(w->cst, &left) != TERR_OK)
				break;
			w->checkpoints++;
			if (left >= 0 && left <= WRITER_CHECKPOINT_GAP)
				break;
		}
		/*
		 * Even when a pass copied everything, the writer has committed since
		 * (it does not pause), and the WAL restarts only at a transaction that
		 * begins with every frame copied. So once the WAL is long, copy the
		 * last frames between two write transactions: the next one then starts
		 * the WAL over instead of appending to it (store.h).
		 */
		if (atomic_load(&w->wal_pages) >= WRITER_RESTART_PAGES)
			store_checkpoint_between(w->cst);
	}
	return NULL;
}

enum terr
writer_start(struct writer **out, const struct cfg *c)
{
	struct writer *w;
	enum terr rc;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return TERR_NOMEM;
	w->c = c;
	w->ckpt_next = WRITER_CHECKPOINT_PAGES;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->ckpt, NULL);
	if ((rc = store_open(&w->wst, c->db_path, STORE_RW)) != TERR_OK ||
	    (rc = store_open(&w->cst, c->db_path, STORE_RW)) != TERR_OK)
		goto fail;
	store_wal_watch(w->wst, on_wal, w);
	if (pthread_create(&w->wthread, NULL, writer_main, w) != 0) {
		rc = TERR_INTERNAL;
		goto fail;
	}
	if (pthread_create(&w->cthread, NULL, checkpointer_main, w) != 0) {
		pthread_mutex_lock(&w->mu);
		w->stopping = 1;
		pthread_cond_signal(&w->work);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->wthread, NULL);
		rc = TERR_INTERNAL;
		goto fail;
	}
	*out = w;
	return TERR_OK;
fail:
	store_close(w->wst);
	store_close(w->cst);
	pthread_cond_destroy(&w->ckpt);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return rc;
}

void
writer_apply(struct writer *w, struct bev *e, struct apply_result *res)
{
	struct writer_wait j;

	memset(&j, 0, sizeof(j));
	j.e = e;
	j.res = res;
	sem_init(&j.done, 0, 0);
	pthread_mutex_lock(&w->mu);
	if (w->tail != NULL)
		w->tail->next = &j;
	else
		w->head = &j;
	w->tail = &j;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	while (sem_wait(&j.done) != 0 && errno == EINTR)
		;
	sem_destroy(&j.done);
}

void
writer_stats(struct writer *w, int64_t *events, int64_t *transactions)
{
	pthread_mutex_lock(&w->mu);
	*events = w->events;
	*transactions = w->batches;
	pthread_mutex_unlock(&w->mu);
}

int64_t
writer_restarts(struct writer *w)
{
	return (int64_t)atomic_load(&w->restarts);
}

void
writer_stop(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->work);
	pthread_cond_signal(&w->ckpt);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->wthread, NULL);
	pthread_join(w->cthread, NULL);
	store_checkpoint(w->cst, NULL);
	{
		struct logline l;
		log_begin(&l, LOG_INFO, "writer stopped");
		log_int(&l, "events", w->events);
		log_int(&l, "transactions", w->batches);
		log_int(&l, "events_per_transaction_x100",
		    w->batches > 0 ? w->events * 100 / w->batches : 0);
		log_int(&l, "checkpoints", w->checkpoints);
		log_int(&l, "wal_restarts", (int64_t)atomic_load(&w->restarts));
		log_end(&l);
	}
	store_close(w->wst);
	store_close(w->cst);
	pthread_cond_destroy(&w->ckpt);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
