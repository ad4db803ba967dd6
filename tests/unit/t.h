/*
 * The unit-test harness: a test is a function; each prints "ok NAME" or
 * "FAIL NAME: file:line: expression" (build.sh counts them) and the program
 * exits 1 when any failed. One behaviour per test, named for it.
 *
 *	TEST(json_rejects_duplicate_keys) { ... CHECK(rc == TERR_INVAL); }
 *	int main(void) { RUN(json_rejects_duplicate_keys); return t_done(); }
 */
#ifndef TALLY_T_H
#define TALLY_T_H

#include <stdio.h>
#include <string.h>

static int t_failed_total;
static int t_failed_now;
static const char *t_name;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			if (!t_failed_now)                                                         \
				printf("FAIL %s: %s:%d: %s\n", t_name, __FILE__, __LINE__, #cond); \
			t_failed_now = 1;                                                          \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* Compare integers and show both values on failure. */
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long t_a = (long long)(a), t_b = (long long)(b);                              \
		if (t_a != t_b) {                                                                  \
			if (!t_failed_now)                                                         \
				printf("FAIL %s: %s:%d: %s == %s (%lld != %lld)\n", t_name,        \
				    __FILE__, __LINE__, #a, #b, t_a, t_b);                         \
			t_failed_now = 1;                                                          \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *t_a = (a), *t_b = (b);                                                 \
		if (t_a == NULL || t_b == NULL || strcmp(t_a, t_b) != 0) {                         \
			if (!t_failed_now)                                                         \
				printf("FAIL %s: %s:%d: %s == %s (\"%s\" != \"%s\")\n", t_name,    \
				    __FILE__, __LINE__, #a, #b, t_a ? t_a : "(null)",              \
				    t_b ? t_b : "(null)");                                         \
			t_failed_now = 1;                                                          \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static inline void
t_run(const char *name, void (*fn)(void))
{
	t_name = name;
	t_failed_now = 0;
	fn();
	if (t_failed_now)
		t_failed_total++;
	else
		printf("ok %s\n", name);
	fflush(stdout);
}

#define RUN(name) t_run(#name, name)

static inline int
t_done(void)
{
	return t_failed_total ? 1 : 0;
}

#endif
