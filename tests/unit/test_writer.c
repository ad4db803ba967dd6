/*
 * Group commit (lib/serve/writer.c) in-process: many threads hand events to one
 * writer; every event commits exactly once, several per transaction, each
 * answered with its own result; a bad event in a batch fails alone; under
 * load that never pauses the WAL still starts over instead of growing.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/text.h"
#include "cfg/cfg.h"
#include "serve/writer.h"
#include "store/store.h"
#include "store/store_credits.h"
#include "t.h"

#define THREADS    16
#define PER_THREAD 40

static char dbpath[128];
static struct cfg cfg;
static struct writer *w;

static const char catalog[] = "{\"products\":{\"pack\":{\"kind\":\"pack\",\"credits\":5,"
			      "\"match\":{\"stripe\":[\"price_pack\"]}}}}";

struct job {
	int thread;
	int failed;   /* results not as expected */
	int bad_seen; /* the bad event's result */
};

static void
pack_event(struct bev *e, const char *id, const char *user, const char *key, const char *price)
{
	bev_init(e);
	text_copy(e->provider, sizeof(e->provider), "stripe");
	text_copy(e->id, sizeof(e->id), id);
	text_copy(e->type, sizeof(e->type), "checkout.session.completed");
	text_copy(e->user, sizeof(e->user), user);
	e->at = 1700000000000;
	e->aspects = BEV_PAY;
	e->pay.kind = PAY_ONE_OFF;
	bev_key(&e->pay.keys, key);
	e->pay.amount = 500;
	text_copy(e->pay.currency, sizeof(e->pay.currency), "usd");
	text_copy(e->pay.product, sizeof(e->pay.product), price);
	e->raw = "{}";
	e->raw_len = 2;
}

static void *
submit(void *arg)
{
	struct job *j = arg;
	struct bev *e = malloc(sizeof(*e));
	struct apply_result res;
	char id[64], user[32], key[64];
	int i;

	for (i = 0; e != NULL && i < PER_THREAD; i++) {
		int bad = j->thread == 3 && i == 7;
		snprintf(id, sizeof(id), "evt_%d_%d", j->thread, i);
		snprintf(user, sizeof(user), "user_%d", j->thread);
		snprintf(key, sizeof(key), "pi_%d_%d", j->thread, i);
		pack_event(e, id, user, key, bad ? "price_unknown" : "price_pack");
		writer_apply(w, e, &res);
		if (res.err != TERR_OK)
			j->failed++;
		else if (bad)
			j->bad_seen = res.state == INBOX_UNKNOWN_PRODUCT;
		else if (res.state != INBOX_APPLIED || res.duplicate)
			j->failed++;
		/* The same event again: answered as a duplicate, nothing applied twice. */
		if (i % 10 == 0 && !bad) {
			writer_apply(w, e, &res);
			if (res.err != TERR_OK || !res.duplicate)
				j->failed++;
		}
	}
	free(e);
	return NULL;
}

TEST(writer_commits_every_event_once_in_shared_transactions)
{
	pthread_t t[THREADS];
	struct job jobs[THREADS];
	struct store *s = NULL;
	int64_t events = 0, txs = 0, bal = 0;
	char user[32];
	int i, failed = 0;

	CHECK_EQ(writer_start(&w, &cfg), TERR_OK);
	for (i = 0; i < THREADS; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].thread = i;
		pthread_create(&t[i], NULL, submit, &jobs[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		failed += jobs[i].failed;
	}
	writer_stats(w, &events, &txs);
	writer_stop(w);
	w = NULL;
	CHECK_EQ(failed, 0);
	CHECK_EQ(jobs[3].bad_seen, 1);
	CHECK_EQ(events, THREADS * PER_THREAD + THREADS * (PER_THREAD / 10));
	CHECK(txs < events); /* group commit: several events per transaction */
	CHECK_EQ(store_open(&s, dbpath, STORE_RW), TERR_OK);
	for (i = 0; i < THREADS; i++) {
		snprintf(user, sizeof(user), "user_%d", i);
		CHECK_EQ(store_balance_live(s, user, 1700000000000, &bal), TERR_OK);
		CHECK_EQ(bal, i == 3 ? 5 * (PER_THREAD - 1) : 5 * PER_THREAD);
	}
	store_close(s);
}

/* Events at most in the sustained-load test (it stops once the WAL started over ten times). */
#define STEADY_MAX 120000

static atomic_int steady_stop;
static atomic_long steady_sent;
static atomic_int steady_failed;

/* One thread of the sustained load: events one after another, never a pause. */
static void *
steady(void *arg)
{
	int thread = *(int *)arg;
	struct bev *e = malloc(sizeof(*e));
	struct apply_result res;
	char id[64], user[32], key[64];
	long i;

	for (i = 0; e != NULL && !atomic_load(&steady_stop); i++) {
		if (atomic_fetch_add(&steady_sent, 1) >= STEADY_MAX)
			break;
		snprintf(id, sizeof(id), "steady_%d_%ld", thread, i);
		snprintf(user, sizeof(user), "steady_user_%d", thread);
		snprintf(key, sizeof(key), "pi_steady_%d_%ld", thread, i);
		pack_event(e, id, user, key, "price_pack");
		writer_apply(w, e, &res);
		if (res.err != TERR_OK || res.state != INBOX_APPLIED)
			atomic_fetch_add(&steady_failed, 1);
	}
	free(e);
	return NULL;
}

/*
 * SQLite starts the WAL over only at a write transaction that begins with
 * every frame already copied into the database; a writer that never pauses
 * always has frames of its last commit uncopied, so without the checkpoint
 * between two transactions (store_checkpoint_between) the WAL grows for as
 * long as the load lasts: every write an append, the file without bound.
 */
TEST(writer_starts_the_wal_over_under_sustained_load)
{
	pthread_t t[THREADS];
	int ids[THREADS], i;
	int64_t restarts;
	char wal[160];
	struct stat st;

	CHECK_EQ(writer_start(&w, &cfg), TERR_OK);
	for (i = 0; i < THREADS; i++) {
		ids[i] = i;
		pthread_create(&t[i], NULL, steady, &ids[i]);
	}
	while (writer_restarts(w) < 10 && atomic_load(&steady_sent) < STEADY_MAX)
		usleep(10000);
	atomic_store(&steady_stop, 1);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	restarts = writer_restarts(w);
	writer_stop(w);
	w = NULL;
	CHECK_EQ(atomic_load(&steady_failed), 0);
	CHECK(restarts >= 10);
	/*
	 * Started over again and again, the file stays under the size the
	 * connection cuts it back to (journal_size_limit, 64 MiB: lib/store/store.c).
	 */
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	CHECK_EQ(stat(wal, &st), 0);
	CHECK(st.st_size <= 64 * 1024 * 1024);
}

int
main(void)
{
	struct store *s = NULL;
	char why[256];
	int from, to;

	snprintf(dbpath, sizeof(dbpath), "/tmp/tally-writer-%d.db", (int)getpid());
	unlink(dbpath);
	cfg_defaults(&cfg);
	text_copy(cfg.db_path, sizeof(cfg.db_path), dbpath);
	if (cfg_parse(&cfg, catalog, sizeof(catalog) - 1, why, sizeof(why)) != TERR_OK ||
	    store_open(&s, dbpath, STORE_MIGRATE) != TERR_OK || store_migrate(s, 0, &from, &to)) {
		printf("FAIL setup: %s\n", why);
		return 1;
	}
	store_close(s);
	RUN(writer_commits_every_event_once_in_shared_transactions);
	RUN(writer_starts_the_wal_over_under_sustained_load);
	cfg_release(&cfg);
	snprintf(why, sizeof(why), "%s-wal", dbpath);
	unlink(why);
	snprintf(why, sizeof(why), "%s-shm", dbpath);
	unlink(why);
	snprintf(why, sizeof(why), "%s.lock", dbpath);
	unlink(why);
	unlink(dbpath);
	return t_done();
}
