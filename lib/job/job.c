/*
 * The shared frame of the scheduled jobs: see job.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/provider.h"
#include "crypto/crypto.h"
#include "http/httpc.h"
#include "job/job.h"
#include "store/store_access.h"
#include "store/store_jobs.h"
#include "store/store_rows.h"

/* --------------------------------------------------------------- owner */

/* Read a small file of /proc into out (NUL-terminated, trailing newline cut). 0 or -1. */
static int
read_small(const char *path, char *out, size_t size)
{
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	do
		r = read(fd, out, size - 1);
	while (r < 0 && errno == EINTR);
	close(fd);
	if (r <= 0)
		return -1;
	out[r] = '\0';
	if (out[r - 1] == '\n')
		out[r - 1] = '\0';
	return 0;
}

/* The start time of process pid (proc(5) /proc/[pid]/stat field 22, clock ticks since boot). */
static int
proc_start(long long pid, int64_t *start)
{
	char path[48], stat[1024], *p, *end;
	int field;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	if (read_small(path, stat, sizeof(stat)) != 0)
		return -1;
	/* Field 2 is "(comm)", which may hold spaces and parentheses: count from the last ')'. */
	if ((p = strrchr(stat, ')')) == NULL)
		return -1;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return -1;
	p++;
	end = strchr(p, ' ');
	return text_i64(p, end != NULL ? (size_t)(end - p) : strlen(p), 0, INT64_MAX, start) ==
		TERR_OK
	    ? 0
	    : -1;
}

/* This kernel's boot (12 hex digits of boot_id) and pid namespace (its inode), or -1. */
static int
proc_place(char boot[16], char ns[24])
{
	char id[64], link[64];
	ssize_t r;
	size_t i, k = 0;
	char *a, *b;

	if (read_small("/proc/sys/kernel/random/boot_id", id, sizeof(id)) != 0)
		return -1;
	for (i = 0; id[i] != '\0' && k < 12; i++)
		if (id[i] != '-')
			boot[k++] = id[i];
	boot[k] = '\0';
	/* "pid:[4026531836]" */
	if ((r = readlink("/proc/self/ns/pid", link, sizeof(link) - 1)) <= 0)
		return -1;
	link[r] = '\0';
	if ((a = strchr(link, '[')) == NULL || (b = strchr(a, ']')) == NULL ||
	    (size_t)(b - a - 1) >= 24 || k != 12)
		return -1;
	text_copyn(ns, 24, a + 1, (size_t)(b - a - 1));
	return 0;
}

void
job_owner_id(char out[JOB_OWNER_MAX])
{
	unsigned char rnd[8];
	char boot[16], ns[24], id[128];
	int64_t start;

	/* "b<boot>.n<pidns>.p<pid>.s<start>": enough to tell, on this machine, whether it still runs. */
	if (proc_place(boot, ns) == 0 && proc_start((long long)getpid(), &start) == 0) {
		snprintf(id, sizeof(id), "b%s.n%s.p%lld.s%lld", boot, ns, (long long)getpid(),
		    (long long)start);
		if (text_copy(out, JOB_OWNER_MAX, id) == TERR_OK)
			return;
	}
	/* Elsewhere a random owner: its lease lapses after its ttl. */
	if (crypto_random_bytes(rnd, sizeof(rnd)) != TERR_OK)
		memset(rnd, 0, sizeof(rnd));
	out[0] = 'r';
	text_hex(rnd, sizeof(rnd), out + 1);
}

int
job_owner_gone(const char *owner)
{
	char boot[16], ns[24], want[64];
	const char *p, *dot;
	int64_t pid, start, now_start;
	int n;

	if (owner[0] != 'b' || proc_place(boot, ns) != 0)
		return 0;
	n = snprintf(want, sizeof(want), "b%s.n%s.p", boot, ns);
	if (n <= 0 || (size_t)n >= sizeof(want) || strncmp(owner, want, (size_t)n) != 0)
		return 0; /* another machine, or another pid namespace: its ttl decides */
	p = owner + n;
	if ((dot = strchr(p, '.')) == NULL ||
	    text_i64(p, (size_t)(dot - p), 1, INT32_MAX, &pid) != TERR_OK || dot[1] != 's')
		return 0;
	if (text_i64s(dot + 2, 0, INT64_MAX, &start) != TERR_OK)
		return 0;
	/* Gone: no such process, or the pid now names a process started later. */
	if (proc_start((long long)pid, &now_start) != 0)
		return access("/proc/self/stat", R_OK) == 0;
	return now_start != start;
}

/* ---------------------------------------------------------------- init */

static int
usage(const char *name, const char *const *opts)
{
	size_t i;

	fprintf(stderr, "usage: tally-%s [--now TIME] [--dry-run] [--limit N] [--json]", name);
	for (i = 0; opts != NULL && opts[i] != NULL; i++)
		fprintf(stderr, " [--%s VALUE]", opts[i]);
	fputc('\n', stderr);
	return 2;
}

/* 0, or 2 on a usage error (said on stderr). */
static int
parse_args(struct job *j, int argc, char **argv, const char *const *opts)
{
	const char *a;
	size_t k;
	int i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--dry-run") == 0)
			j->dry_run = 1;
		else if (strcmp(a, "--json") == 0)
			j->json = 1;
		else if (strcmp(a, "--now") == 0) {
			if (i + 1 >= argc || tm_parse(argv[i + 1], &j->now) != TERR_OK) {
				fprintf(stderr,
				    "tally-%s: --now takes a time such as "
				    "2026-12-01T00:00:00Z\n",
				    j->name);
				return 2;
			}
			i++;
		} else if (strcmp(a, "--limit") == 0) {
			if (i + 1 >= argc ||
			    text_i64s(argv[i + 1], 1, JOB_LIMIT_MAX, &j->limit) != TERR_OK) {
				fprintf(stderr, "tally-%s: --limit takes a number from 1 to %d\n",
				    j->name, JOB_LIMIT_MAX);
				return 2;
			}
			i++;
		} else {
			for (k = 0; opts != NULL && opts[k] != NULL; k++)
				if (strncmp(a, "--", 2) == 0 && strcmp(a + 2, opts[k]) == 0)
					break;
			if (opts == NULL || opts[k] == NULL || i + 1 >= argc ||
			    j->nopts == JOB_OPTS_MAX) {
				fprintf(stderr, "tally-%s: unknown or incomplete argument: %s\n",
				    j->name, a);
				return usage(j->name, opts);
			}
			j->opt_names[j->nopts] = opts[k];
			j->opt_values[j->nopts++] = argv[++i];
		}
	}
	return 0;
}

static void
log_level_from_env(void)
{
	const char *v = getenv("TALLY_LOG_LEVEL");

	if (v == NULL)
		return;
	if (strcmp(v, "debug") == 0)
		log_set_level(LOG_DEBUG);
	else if (strcmp(v, "warn") == 0)
		log_set_level(LOG_WARN);
	else if (strcmp(v, "error") == 0)
		log_set_level(LOG_ERROR);
}

/* Print "another runner holds the lease" and log it. */
static void
say_held(struct job *j, const struct job_row *r)
{
	char until[TM_ISO_SIZE];
	struct logline l;

	tm_iso(r->lease_until, until);
	log_begin(&l, LOG_INFO, "another runner holds the lease: nothing done");
	log_str(&l, "job", j->name);
	log_str(&l, "holder", r->lease_owner);
	log_str(&l, "until", until);
	log_end(&l);
	if (j->json)
		printf("{\"job\":\"%s\",\"ok\":true,\"skipped\":\"another runner holds the lease\","
		       "\"until\":\"%s\"}\n",
		    j->name, until);
	else
		printf("tally-%s: another runner holds the lease until %s: nothing done\n", j->name,
		    until);
}

/* Take the lease, or take it over from a runner of this machine that died. 1 taken, 0 held, -1 error. */
static int
lease(struct job *j)
{
	struct job_row rows[64];
	size_t n, i;
	int64_t now = tm_now_ms();
	int got = 0;
	enum terr rc;

	job_owner_id(j->owner);
	if ((rc = store_job_lease(j->s, j->name, j->owner, now, JOB_LEASE_TTL_MS, &got)) != TERR_OK)
		return -1;
	if (got)
		goto taken;
	if (store_jobs_list(j->s, rows, 64, &n) != TERR_OK)
		return -1;
	for (i = 0; i < n && strcmp(rows[i].name, j->name) != 0; i++)
		;
	if (i == n)
		return -1; /* the lease statement said it is held, yet there is no row */
	if (job_owner_gone(rows[i].lease_owner)) {
		rc = store_job_takeover(j->s, j->name, rows[i].lease_owner, j->owner, now,
		    now + JOB_LEASE_TTL_MS);
		if (rc == TERR_OK) {
			struct logline l;
			log_begin(&l, LOG_WARN, "took over the lease of a runner that is gone");
			log_str(&l, "job", j->name);
			log_str(&l, "gone", rows[i].lease_owner);
			log_end(&l);
			goto taken;
		}
		if (rc != TERR_CONFLICT)
			return -1;
	}
	say_held(j, &rows[i]);
	return 0;
taken:
	j->leased = 1;
	j->renew_at = now + JOB_LEASE_TTL_MS / 3;
	return 1;
}

static void
release_all(struct job *j)
{
	size_t i;

	if (j->bodies != NULL)
		for (i = 0; i < JOB_BATCH; i++)
			buf_release(&j->bodies[i]);
	free(j->bodies);
	free(j->ev);
	free(j->res);
	free(j->slots);
	j->bodies = NULL;
	j->ev = NULL;
	j->res = NULL;
	j->slots = NULL;
	buf_release(&j->out);
	store_close(j->s);
	j->s = NULL;
	cfg_release(&j->cfg);
}

int
job_init(struct job *j, const char *name, int argc, char **argv, const char *const *opts,
    int64_t limit)
{
	static char prog[64];
	char why[512], when[TM_ISO_SIZE];
	struct logline l;
	int r;

	/* Before anything is opened: the database and its files are owner-only (store.h). */
	store_umask();
	memset(j, 0, sizeof(*j));
	j->name = name;
	j->t0 = tm_now_ms();
	j->now = j->t0;
	j->limit = limit;
	snprintf(prog, sizeof(prog), "tally-%s", name);
	crypto_init();
	httpc_init();
	log_init(prog);
	log_level_from_env();
	buf_init(&j->out, JOB_OUT_MAX);
	if ((r = parse_args(j, argc, argv, opts)) != 0) {
		buf_release(&j->out);
		return r;
	}
	if (cfg_load(&j->cfg, why, sizeof(why)) != TERR_OK) {
		log_msg(LOG_ERROR, "configuration invalid", why);
		fprintf(stderr, "tally-%s: configuration invalid: %s\n", name, why);
		release_all(j);
		return 1;
	}
	if (store_open(&j->s, j->cfg.db_path, STORE_RW) != TERR_OK) {
		fprintf(stderr, "tally-%s: cannot open the database %s (run tally migrate?)\n",
		    name, j->cfg.db_path);
		release_all(j);
		return 1;
	}
	if (!j->dry_run && (r = lease(j)) <= 0) {
		if (r < 0)
			fprintf(stderr, "tally-%s: cannot take the lease: storage failed\n", name);
		release_all(j);
		return r < 0 ? 1 : 0;
	}
	jw_init(&j->w, &j->out);
	if (j->json)
		jw_arr(&j->w);
	tm_iso(j->now, when);
	log_begin(&l, LOG_INFO, "job start");
	log_str(&l, "job", name);
	log_str(&l, "now", when);
	log_int(&l, "limit", j->limit);
	log_int(&l, "dry_run", j->dry_run);
	log_end(&l);
	return JOB_RUN;
}

const char *
job_opt(const struct job *j, const char *name)
{
	size_t i;

	for (i = 0; i < j->nopts; i++)
		if (strcmp(j->opt_names[i], name) == 0)
			return j->opt_values[i];
	return NULL;
}

/* --------------------------------------------------------------- work */

void
job_fail(struct job *j, const char *fmt, ...)
{
	char msg[REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!j->failed)
		text_copy(j->error, sizeof(j->error), msg);
	j->failed = 1;
	log_msg(LOG_ERROR, msg, NULL);
}

int
job_tick(struct job *j)
{
	int64_t now;
	enum terr rc;

	if (!j->leased)
		return 0;
	if ((now = tm_now_ms()) < j->renew_at)
		return 0;
	rc = store_job_renew(j->s, j->name, j->owner, now + JOB_LEASE_TTL_MS);
	if (rc != TERR_OK) {
		j->leased = 0;
		j->stop = 1;
		job_fail(j, "the lease was lost (%s): stopping", err_str(rc));
		return -1;
	}
	j->renew_at = now + JOB_LEASE_TTL_MS / 3;
	return 0;
}

int
job_more(struct job *j)
{
	/* A lost lease or a storage failure stops the run; a refused item does not. */
	if (j->stop || j->done >= j->limit)
		return 0;
	return job_tick(j) == 0;
}

void
job_count(struct job *j, const char *name, int64_t n)
{
	size_t i;

	for (i = 0; i < j->ncounters; i++)
		if (strcmp(j->counters[i].name, name) == 0) {
			j->counters[i].n += n;
			return;
		}
	if (j->ncounters == JOB_COUNTERS_MAX)
		return;
	text_copy(j->counters[j->ncounters].name, sizeof(j->counters[0].name), name);
	j->counters[j->ncounters++].n = n;
}

void
job_report(struct job *j, const struct job_item *it)
{
	const char *const keys[] = { "action", "subject", "user_id", "provider", "tally", "theirs",
		"event_id", "result", "reason" };
	const char *vals[] = { it->action, it->subject, it->user, it->provider, it->tally,
		it->theirs, it->event_id, it->result, it->reason };
	size_t k;

	if (j->listed++ >= JOB_REPORT_MAX)
		return;
	if (j->json) {
		jw_obj(&j->w);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (vals[k] != NULL && vals[k][0] != '\0')
				jw_kstr(&j->w, keys[k], vals[k]);
		jw_end(&j->w);
		return;
	}
	/* "drift subscription 7 (user u): stripe says expired until ..., tally active until ...: applied" */
	buf_printf(&j->out, "%s %s", it->action != NULL ? it->action : "",
	    it->subject != NULL ? it->subject : "");
	if (it->user != NULL && it->user[0] != '\0')
		buf_printf(&j->out, " (user %s)", it->user);
	if (it->tally != NULL || it->theirs != NULL)
		buf_printf(&j->out, ": %s says %s, tally %s", it->provider,
		    it->theirs != NULL ? it->theirs : "?", it->tally != NULL ? it->tally : "?");
	for (k = 7; k < 9; k++) /* result, reason */
		if (vals[k] != NULL && vals[k][0] != '\0')
			buf_printf(&j->out, ": %s", vals[k]);
	if (it->event_id != NULL && it->event_id[0] != '\0')
		buf_printf(&j->out, " [%s]", it->event_id);
	buf_putc(&j->out, '\n');
}

/* "<action>.<result>" */
static void
count2(struct job *j, const char *action, const char *result)
{
	char name[48];

	snprintf(name, sizeof(name), "%s.%s", action, result);
	job_count(j, name, 1);
}

static int
batch_alloc(struct job *j)
{
	size_t i;

	if (j->ev != NULL)
		return 0;
	j->ev = calloc(JOB_BATCH, sizeof(*j->ev));
	j->res = calloc(JOB_BATCH, sizeof(*j->res));
	j->bodies = calloc(JOB_BATCH, sizeof(*j->bodies));
	j->slots = calloc(JOB_BATCH, sizeof(*j->slots));
	if (j->ev == NULL || j->res == NULL || j->bodies == NULL || j->slots == NULL)
		return -1;
	for (i = 0; i < JOB_BATCH; i++)
		buf_init(&j->bodies[i], BODY_MAX);
	return 0;
}

/*
 * Before queuing an event: reported "duplicate" when the inbox has it
 * (done by an earlier run or another runner), "would apply" in a dry run.
 * 1: reported, nothing to queue; 0: queue it; -1: storage failed.
 */
static int
already(struct job *j, struct job_item *it, const char *provider, const char *id)
{
	struct inbox_row row;
	enum terr rc;

	rc = id != NULL ? store_inbox_find(j->s, provider, id, &row) : TERR_NOTFOUND;
	if (rc == TERR_OK) {
		it->result = "duplicate";
		it->reason = inbox_state_str(row.state);
		if (it->user == NULL || it->user[0] == '\0')
			it->user = row.user;
	} else if (rc != TERR_NOTFOUND) {
		j->stop = 1;
		job_fail(j, "storage failed reading the inbox: %s", err_str(rc));
		return -1;
	} else if (j->dry_run)
		it->result = "would apply";
	else
		return 0;
	job_report(j, it);
	count2(j, it->action, rc == TERR_OK ? "duplicate" : "would_apply");
	return 1;
}

int
job_op(struct job *j, struct op_action *a, const char *subject)
{
	struct job_item it = { .action = a->action,
		.subject = subject,
		.user = a->user,
		.event_id = a->id };
	struct job_slot *sl;
	char why[REASON_MAX];
	int r;

	j->done++;
	a->source = OP_JOB;
	a->at = j->now;
	a->operator_ = j->name;
	if ((r = already(j, &it, OP_JOB, a->id)) != 0)
		return r < 0 ? -1 : 0;
	if (batch_alloc(j) != 0) {
		j->stop = 1;
		job_fail(j, "out of memory");
		return -1;
	}
	if (op_event(a, &j->bodies[j->n], &j->ev[j->n], why, sizeof(why)) != TERR_OK) {
		it.result = "refused";
		it.reason = why;
		job_report(j, &it);
		count2(j, a->action, "refused");
		job_fail(j, "%s %s: %s", a->action, subject, why);
		return 0;
	}
	sl = &j->slots[j->n++];
	text_copy(sl->subject, sizeof(sl->subject), subject);
	text_copy(sl->user, sizeof(sl->user), a->user);
	text_copy(sl->action, sizeof(sl->action), a->action);
	return j->n == JOB_BATCH ? job_flush(j) : 0;
}

int
job_apply_raw(struct job *j, const char *provider, const char *body, size_t n, const char *action,
    const char *subject)
{
	struct job_item it = { .action = action, .subject = subject };
	struct job_slot *sl;
	struct bev *e;
	char why[REASON_MAX];
	int r;

	j->done++;
	if (batch_alloc(j) != 0) {
		j->stop = 1;
		job_fail(j, "out of memory");
		return -1;
	}
	buf_reset(&j->bodies[j->n]);
	buf_append(&j->bodies[j->n], body, n);
	e = &j->ev[j->n];
	if (j->bodies[j->n].err != TERR_OK ||
	    provider_parse(&j->cfg, provider, buf_cstr(&j->bodies[j->n]), j->bodies[j->n].len, e,
		why, sizeof(why)) != TERR_OK) {
		it.result = "unreadable";
		it.reason = j->bodies[j->n].err != TERR_OK ? "larger than the largest body" : why;
		job_report(j, &it);
		count2(j, action, "unreadable");
		job_fail(j, "%s %s: cannot be read: %s", action, subject, it.reason);
		return 0;
	}
	it.event_id = e->id;
	if ((r = already(j, &it, e->provider, e->id)) != 0)
		return r < 0 ? -1 : 0;
	sl = &j->slots[j->n++];
	text_copy(sl->subject, sizeof(sl->subject), subject);
	sl->user[0] = '\0';
	text_copy(sl->action, sizeof(sl->action), action);
	return j->n == JOB_BATCH ? job_flush(j) : 0;
}

int
job_flush(struct job *j)
{
	const struct apply_result *r;
	size_t i, n = j->n;
	enum terr rc;

	if (n == 0)
		return 0;
	j->n = 0;
	rc = apply_batch(j->s, &j->cfg, j->ev, n, j->res, j->now);
	for (i = 0; i < n; i++) {
		struct job_item it = { .action = j->slots[i].action,
			.subject = j->slots[i].subject,
			.user = j->slots[i].user[0] != '\0' ? j->slots[i].user : j->res[i].user,
			.event_id = j->ev[i].id,
			.reason = j->res[i].reason };

		r = &j->res[i];
		if (r->err != TERR_OK) {
			it.result = "not committed";
			it.reason = err_str(r->err);
		} else if (r->duplicate)
			it.result = "duplicate";
		else if (r->code[0] != '\0') {
			/* The core refused the work: it stays due; a person must look. */
			it.result = "refused";
			job_fail(j, "%s %s refused: %s", it.action, it.subject, r->reason);
		} else
			it.result =
			    r->state == INBOX_APPLIED ? "applied" : inbox_state_str(r->state);
		job_report(j, &it);
		count2(j, it.action, it.result);
	}
	if (rc != TERR_OK) {
		j->stop = 1;
		job_fail(j, "storage failed: %s (run again: nothing is done twice)", err_str(rc));
		return -1;
	}
	return job_tick(j);
}

#define WALK_PAGE 64

int
job_walk(struct job *j, job_page_fn page, const void *page_arg, size_t rowsize,
    struct store_pos start, int64_t until, int (*fn)(struct job *j, const void *row, void *arg),
    void *arg)
{
	struct store_pos pos = start;
	char *rows;
	size_t n, i;
	int ret = 0;
	enum terr rc;

	if ((rows = calloc(WALK_PAGE, rowsize)) == NULL) {
		j->stop = 1;
		job_fail(j, "out of memory");
		return -1;
	}
	while (ret == 0 && job_more(j)) {
		/* What the last page queued is applied first: the walk then sees it done. */
		if (job_flush(j) != 0) {
			ret = -1;
			break;
		}
		if ((rc = page(j->s, page_arg, &pos, until, rows, WALK_PAGE, &n)) != TERR_OK) {
			j->stop = 1;
			job_fail(j, "storage failed reading due work: %s", err_str(rc));
			ret = -1;
			break;
		}
		if (n == 0)
			break;
		for (i = 0; i < n && ret == 0 && job_more(j); i++)
			ret = fn(j, rows + i * rowsize, arg);
	}
	free(rows);
	return ret;
}

/* job_walk_subs through job_walk: the walk's kind, and the caller's function. */
struct subs_walk {
	int (*fn)(struct job *j, const struct sub_row *row, void *arg);
	void *arg;
};

static enum terr
page_subs(struct store *s, const void *w, struct store_pos *pos, int64_t until, void *rows,
    size_t max, size_t *n)
{
	return store_due_subs(s, *(const enum due_subs *)w, pos, until, rows, max, n);
}

static int
item_sub(struct job *j, const void *row, void *arg)
{
	const struct subs_walk *sw = arg;

	return sw->fn(j, row, sw->arg);
}

int
job_walk_subs(struct job *j, enum due_subs w, struct store_pos start, int64_t until,
    int (*fn)(struct job *j, const struct sub_row *row, void *arg), void *arg)
{
	struct subs_walk sw = { fn, arg };

	return job_walk(j, page_subs, &w, sizeof(struct sub_row), start, until, item_sub, &sw);
}

void
job_action(struct op_action *a, const char *id, const char *action, const char *user,
    const char *reason)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->action = action;
	a->user = user;
	a->reason = reason;
}

/* ------------------------------------------------------------- finish */

static void
summary(const struct job *j, struct buf *b)
{
	size_t i;

	for (i = 0; i < j->ncounters; i++)
		buf_printf(b, "%s%s %lld", i > 0 ? ", " : "", j->counters[i].name,
		    (long long)j->counters[i].n);
	if (j->ncounters == 0)
		buf_puts(b, "nothing due");
}

int
job_finish(struct job *j)
{
	char storage[1024], when[TM_ISO_SIZE];
	struct buf sum, doc;
	struct logline l;
	struct jw w;
	size_t i;
	int status;

	job_flush(j);
	buf_init_fixed(&sum, storage, sizeof(storage));
	summary(j, &sum);
	if (j->leased &&
	    store_job_release(j->s, j->name, j->owner, tm_now_ms(), !j->failed,
		j->failed ? j->error : buf_cstr(&sum)) != TERR_OK)
		job_fail(j, "storage failed releasing the lease");
	status = j->failed ? 1 : 0;

	log_begin(&l, j->failed ? LOG_ERROR : LOG_INFO, "job end");
	log_str(&l, "job", j->name);
	log_int(&l, "ms", tm_now_ms() - j->t0);
	log_int(&l, "dry_run", j->dry_run);
	for (i = 0; i < j->ncounters; i++)
		log_int(&l, j->counters[i].name, j->counters[i].n);
	log_str(&l, "result", j->failed ? "failed" : "ok");
	if (j->failed)
		log_str(&l, "error", j->error);
	log_end(&l);

	tm_iso(j->now, when);
	if (j->json) {
		jw_aend(&j->w);
		buf_init(&doc, JOB_OUT_MAX + 4096);
		jw_init(&w, &doc);
		jw_obj(&w);
		jw_kstr(&w, "job", j->name);
		jw_kstr(&w, "now", when);
		jw_kbool(&w, "dry_run", j->dry_run);
		jw_kint(&w, "limit", j->limit);
		jw_kbool(&w, "ok", !j->failed);
		if (j->failed)
			jw_kstr(&w, "error", j->error);
		else {
			jw_key(&w, "error");
			jw_null(&w);
		}
		jw_key(&w, "counts");
		jw_obj(&w);
		for (i = 0; i < j->ncounters; i++)
			jw_kint(&w, j->counters[i].name, j->counters[i].n);
		jw_end(&w);
		jw_key(&w, "items");
		jw_raw(&w, j->out.err == TERR_OK ? buf_cstr(&j->out) : "[]");
		if (j->listed > JOB_REPORT_MAX)
			jw_kint(&w, "items_not_listed", j->listed - JOB_REPORT_MAX);
		jw_end(&w);
		buf_putc(&doc, '\n');
		fwrite(buf_cstr(&doc), 1, doc.len, stdout);
		buf_release(&doc);
	} else {
		fwrite(buf_cstr(&j->out), 1, j->out.len, stdout);
		printf("tally-%s at %s%s: %s%s%s\n", j->name, when, j->dry_run ? " (dry run)" : "",
		    buf_cstr(&sum), j->failed ? "; FAILED: " : "", j->failed ? j->error : "");
	}
	fflush(stdout);
	release_all(j);
	return status;
}
