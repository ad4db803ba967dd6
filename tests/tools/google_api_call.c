/*
 * Test tool: the Android Publisher client (google_api.h) from the command
 * line, with the configuration of the environment (TALLY_CONFIG and its
 * google section, GOOGLE_SERVICE_ACCOUNT_FILE, as every program loads it).
 * One client for the whole run, so its access token is shared by the steps:
 *
 *   google_api_call STEP...
 *     sub TOKEN                    purchases.subscriptionsv2.get
 *     product PRODUCT TOKEN        purchases.products.get
 *     sub-ack PRODUCT TOKEN        purchases.subscriptions.acknowledge
 *     product-ack PRODUCT TOKEN    purchases.products.acknowledge
 *     consume PRODUCT TOKEN        purchases.products.consume
 *     voided START_MS END_MS PAGE  voidedpurchases.list, one page (PAGE "-": the first)
 *     voided-all START_MS END_MS   every page, following nextPageToken
 *     par N STEP                   the step in N threads at once
 *     sleep MS
 *     exchanges                    how many token exchanges the client made
 *
 * Each call prints one JSON line: {"call","rc" (the enum's name), "why",
 * "body" (the answer verbatim, a string), "next"}. When the client cannot be
 * made: one line {"call":"new","rc","why"} and exit 1. Exit 2 on a usage error.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/json.h"
#include "base/text.h"
#include "cfg/cfg.h"
#include "crypto/crypto.h"
#include "http/httpc.h"
#include "providers/google/google_api.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *
rc_name(enum terr rc)
{
	switch (rc) {
	case TERR_OK: return "OK";
	case TERR_NOMEM: return "NOMEM";
	case TERR_TOOBIG: return "TOOBIG";
	case TERR_INVAL: return "INVAL";
	case TERR_AUTH: return "AUTH";
	case TERR_STALE: return "STALE";
	case TERR_CONFIG: return "CONFIG";
	case TERR_NOTFOUND: return "NOTFOUND";
	case TERR_IO: return "IO";
	default: return err_str(rc);
	}
}

static void
print(const char *call, enum terr rc, const char *why, const struct buf *body, const char *next)
{
	struct buf line;
	struct jw w;

	buf_init(&line, 2 * GOOGLE_ANSWER_MAX + 4096);
	jw_init(&w, &line);
	jw_obj(&w);
	jw_kstr(&w, "call", call);
	jw_kstr(&w, "rc", rc_name(rc));
	jw_kstr(&w, "why", why);
	if (body != NULL) {
		jw_key(&w, "body");
		jw_strn(&w, buf_cstr(body), body->len);
	}
	if (next != NULL)
		jw_kstr(&w, "next", next);
	jw_end(&w);
	pthread_mutex_lock(&out_mu);
	printf("%s\n",
	    line.err == TERR_OK ? buf_cstr(&line) : "{\"call\":\"print\",\"rc\":\"TOOBIG\"}");
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
	buf_release(&line);
}

/* The number of arguments step argv[0] takes, -1 when unknown. */
static int
arity(const char *s)
{
	static const struct {
		const char *name;
		int n;
	} steps[] = { { "sub", 1 }, { "product", 2 }, { "sub-ack", 2 }, { "product-ack", 2 },
		{ "consume", 2 }, { "voided", 3 }, { "voided-all", 2 }, { "sleep", 1 },
		{ "exchanges", 0 } };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(s, steps[i].name) == 0)
			return steps[i].n;
	return -1;
}

static int
ms_arg(const char *s, int64_t *out)
{
	return text_i64s(s, -INT64_MAX, INT64_MAX, out) == TERR_OK;
}

/* One step; 0 on a usage error. */
static int
step(struct google_api *g, char **a)
{
	char why[512] = "", next[2048] = "", page[2048];
	struct buf body;
	int64_t s, e;
	enum terr rc;
	int pages = 0;

	buf_init(&body, GOOGLE_ANSWER_MAX);
	if (strcmp(a[0], "sub") == 0) {
		rc = google_sub_get(g, a[1], &body, why, sizeof(why));
		print(a[0], rc, why, &body, NULL);
	} else if (strcmp(a[0], "product") == 0) {
		rc = google_product_get(g, a[1], a[2], &body, why, sizeof(why));
		print(a[0], rc, why, &body, NULL);
	} else if (strcmp(a[0], "sub-ack") == 0) {
		print(a[0], google_sub_ack(g, a[1], a[2], why, sizeof(why)), why, NULL, NULL);
	} else if (strcmp(a[0], "product-ack") == 0) {
		print(a[0], google_product_ack(g, a[1], a[2], why, sizeof(why)), why, NULL, NULL);
	} else if (strcmp(a[0], "consume") == 0) {
		print(a[0], google_product_consume(g, a[1], a[2], why, sizeof(why)), why, NULL,
		    NULL);
	} else if (strcmp(a[0], "voided") == 0 || strcmp(a[0], "voided-all") == 0) {
		if (!ms_arg(a[1], &s) || !ms_arg(a[2], &e)) {
			buf_release(&body);
			return 0;
		}
		text_copy(page, sizeof(page),
		    strcmp(a[0], "voided") == 0 && strcmp(a[3], "-") != 0 ? a[3] : "");
		do {
			rc = google_voided_list(g, s, e, page, &body, next, sizeof(next), why,
			    sizeof(why));
			print("voided", rc, why, &body, next);
			text_copy(page, sizeof(page), next);
		} while (rc == TERR_OK && strcmp(a[0], "voided-all") == 0 && next[0] != '\0' &&
		    ++pages < 100);
	} else if (strcmp(a[0], "sleep") == 0) {
		struct timespec ts;
		if (!ms_arg(a[1], &s) || s < 0) {
			buf_release(&body);
			return 0;
		}
		ts.tv_sec = (time_t)(s / 1000);
		ts.tv_nsec = (long)(s % 1000) * 1000000;
		nanosleep(&ts, NULL);
	} else if (strcmp(a[0], "exchanges") == 0) {
		snprintf(why, sizeof(why), "%llu", (unsigned long long)google_api_exchanges(g));
		print(a[0], TERR_OK, why, NULL, NULL);
	}
	buf_release(&body);
	return 1;
}

struct par {
	struct google_api *g;
	char **step;
};

static void *
par_run(void *arg)
{
	struct par *p = arg;

	step(p->g, p->step);
	return NULL;
}

/* The step a in n threads at once. */
static int
par(struct google_api *g, int64_t n, char **a)
{
	pthread_t t[64];
	struct par p = { g, a };
	int64_t i, started = 0;

	if (n < 1 || n > 64 || strcmp(a[0], "par") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, par_run, &p) == 0)
			started++;
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	return started == n;
}

int
main(int argc, char **argv)
{
	struct google_api *g = NULL;
	struct cfg *c;
	char why[512] = "";
	enum terr rc;
	int i, n, ok = 1;
	int64_t k;

	if (argc < 2)
		goto usage;
	crypto_init();
	httpc_init();
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return 1;
	if ((rc = cfg_load(c, why, sizeof(why))) != TERR_OK ||
	    (rc = google_api_new(c, &g, why, sizeof(why))) != TERR_OK) {
		print("new", rc, why, NULL, NULL);
		cfg_release(c);
		free(c);
		return 1;
	}
	for (i = 1; i < argc && ok; i += n + 1) {
		if (strcmp(argv[i], "par") == 0) {
			if (i + 2 >= argc || !ms_arg(argv[i + 1], &k) ||
			    (n = arity(argv[i + 2])) < 0 || i + 2 + n >= argc) {
				ok = 0;
				break;
			}
			ok = par(g, k, argv + i + 2);
			n += 2;
		} else if ((n = arity(argv[i])) < 0 || i + n >= argc)
			ok = 0;
		else
			ok = step(g, argv + i);
	}
	google_api_free(g);
	cfg_release(c);
	free(c);
	if (ok)
		return 0;
usage:
	fprintf(stderr, "usage: google_api_call STEP... (see the source's comment)\n");
	return 2;
}
