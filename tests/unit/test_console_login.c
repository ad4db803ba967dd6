/*
 * What bounds a console login: the scrypt parameters a stored hash may ask
 * for (lib/console/console_pw.c: at most the memory of N = 2^17, r = 8 and the time
 * of N = 2^17, r = 8, p = 1), the parameters of new hashes, and the host's
 * password-check slots (lib/store/store.c store_slot_take: lock files beside the
 * database, exclusive between descriptors of one process and between
 * processes). The vectors were made with Python's hashlib.scrypt (OpenSSL),
 * password "password", salt "saltsalt", a 32-byte result.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "console/console_pw.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "t.h"

/* ---------------------------------------------------------------- hashes */

TEST(new_hashes_take_32_mib_owasp_n15_r8_p3)
{
	char h[ADMIN_HASH_MAX];

	CHECK_EQ(console_pw_hash("correct horse battery", h), TERR_OK);
	CHECK(strncmp(h, "$scrypt$ln=15,r=8,p=3$", 22) == 0);
	CHECK(console_pw_verify("correct horse battery", h) == 1);
	CHECK(console_pw_verify("correct horse batterY", h) == 0);
	CHECK(console_pw_outdated(h) == 0);
}

TEST(a_hash_of_n15_r8_p3_made_elsewhere_verifies)
{
	const char *h =
	    "$scrypt$ln=15,r=8,p=3$c2FsdHNhbHQ$2QtNllpqbcGrvxUzJjV67F9Ij-w80FHpgu8BXG-o7oM";

	CHECK(console_pw_verify("password", h) == 1);
	CHECK(console_pw_verify("passwore", h) == 0);
}

TEST(an_old_hash_of_n17_r8_p1_still_verifies_and_is_outdated)
{
	const char *h =
	    "$scrypt$ln=17,r=8,p=1$c2FsdHNhbHQ$tn4C_3XTCbyZT0PnkdwwSDQYp57ZNLU2XgyGIvHVwFw";

	CHECK(console_pw_verify("password", h) == 1);
	CHECK(console_pw_verify("passwore", h) == 0);
	CHECK(console_pw_outdated(h) == 1);
}

TEST(a_stored_hash_past_the_memory_or_time_bound_is_refused_though_right)
{
	/* N = 2^18, r = 4: 128 MiB but N past 2^17 (today's bound was N = 2^18 at r = 8: 256 MiB). */
	const char *n18 =
	    "$scrypt$ln=18,r=4,p=1$c2FsdHNhbHQ$W5tTeBH1I1KYChU1JCPjQxyIFTtBLQ5kbVsiBeyTpLk";
	/* N = 2^16, r = 8, p = 3: 64 MiB, but 1.5 times the work of N = 2^17, r = 8, p = 1. */
	const char *work =
	    "$scrypt$ln=16,r=8,p=3$c2FsdHNhbHQ$1mE88XyGwS79Rc_vyfi0p_4_N7eosDHEdQNzHc8jF2Q";

	CHECK(console_pw_verify("password", n18) == 0);
	CHECK(console_pw_verify("password", work) == 0);
}

/* ----------------------------------------------------------------- slots */

static char dbpath[64];

static struct store *
open_db(void)
{
	struct store *s = NULL;
	int from, to;

	snprintf(dbpath, sizeof(dbpath), "/tmp/tally-unit-slots-%d.db", (int)getpid());
	if (store_open(&s, dbpath, STORE_MIGRATE) != TERR_OK)
		return NULL;
	if (store_migrate(s, 0, &from, &to) != TERR_OK) {
		store_close(s);
		return NULL;
	}
	return s;
}

static void
remove_db(void)
{
	char p[96];
	int i;

	unlink(dbpath);
	for (i = 0; i < 3; i++) {
		static const char *const side[] = { "-wal", "-shm", ".lock" };
		snprintf(p, sizeof(p), "%s%s", dbpath, side[i]);
		unlink(p);
		snprintf(p, sizeof(p), "%s.test-%d", dbpath, i);
		unlink(p);
	}
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST(slots_are_exclusive_within_one_process_and_come_back_when_given)
{
	struct store *s = open_db(), *s2 = NULL;
	struct store_slot a = { -1 }, b = { -1 }, c = { -1 };
	int64_t t0;

	CHECK(s != NULL);
	CHECK_EQ(store_open(&s2, dbpath, STORE_RO), TERR_OK);
	CHECK_EQ(store_slot_take(s, "test", 2, 0, &a), TERR_OK);
	/* Another connection (another thread's) counts against the same slots. */
	CHECK_EQ(store_slot_take(s2, "test", 2, 0, &b), TERR_OK);
	t0 = mono_ms();
	CHECK_EQ(store_slot_take(s, "test", 2, 150, &c), TERR_BUSY);
	CHECK(mono_ms() - t0 >= 150);
	CHECK(c.fd == -1);
	store_slot_give(s2, &b);
	CHECK(b.fd == -1);
	CHECK_EQ(store_slot_take(s, "test", 2, 0, &c), TERR_OK);
	store_slot_give(s, &a);
	store_slot_give(s, &c);
	store_slot_give(s, &c); /* harmless twice */
	store_close(s2);
	store_close(s);
	remove_db();
}

TEST(a_slot_held_by_another_process_is_busy_until_it_ends)
{
	struct store *s = open_db();
	struct store_slot a = { -1 };
	char p[96];
	int fd, held[2], go[2], st;
	pid_t pid;
	char x;

	CHECK(s != NULL);
	snprintf(p, sizeof(p), "%s.test-0", dbpath);
	CHECK(pipe(held) == 0 && pipe(go) == 0);
	if ((pid = fork()) == 0) {
		/* The child holds slot 0 as another process would, then waits to be told. */
		fd = open(p, O_RDWR | O_CREAT, 0600);
		if (fd < 0 || flock(fd, LOCK_EX) != 0)
			_exit(1);
		if (write(held[1], "h", 1) != 1 || read(go[0], &x, 1) != 1)
			_exit(1);
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK(read(held[0], &x, 1) == 1);
	CHECK_EQ(store_slot_take(s, "test", 1, 50, &a), TERR_BUSY);
	/* Held while the child lives; let go when it ends, with nothing given back. */
	CHECK(write(go[1], "g", 1) == 1);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(store_slot_take(s, "test", 1, 1000, &a), TERR_OK);
	store_slot_give(s, &a);
	close(held[0]);
	close(held[1]);
	close(go[0]);
	close(go[1]);
	store_close(s);
	remove_db();
}

int
main(void)
{
	crypto_init();
	RUN(new_hashes_take_32_mib_owasp_n15_r8_p3);
	RUN(a_hash_of_n15_r8_p3_made_elsewhere_verifies);
	RUN(an_old_hash_of_n17_r8_p1_still_verifies_and_is_outdated);
	RUN(a_stored_hash_past_the_memory_or_time_bound_is_refused_though_right);
	RUN(slots_are_exclusive_within_one_process_and_come_back_when_given);
	RUN(a_slot_held_by_another_process_is_busy_until_it_ends);
	return t_done();
}
