/*
 * In-process micro-benchmark of the write path without HTTP: verify +
 * parse + apply of N signed Stripe pack events in batches of B, on a real
 * SQLite file. Prints CPU µs per event for each stage and the batch commit
 * rate. Usage: micro DBPATH N BATCH  (env TALLY_SYNCHRONOUS as for handlers)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/apply.h"
#include "cfg/cfg.h"
#include "crypto/crypto.h"
#include "providers/stripe/stripe.h"
#include "store/store.h"
#include "base/text.h"
#include "base/tm.h"

static const char catalog[] = "{\"stripe\":{\"test_mode\":true,\"tolerance\":\"1d\"},\"products\":{"
			      "\"credits_500\":{\"kind\":\"pack\",\"credits\":500,"
			      "\"match\":{\"stripe\":[\"price_credits_500\"]}}}}";

static int wal_last, wal_frames;

/* The WAL hook: frames appended by each commit (checkpoints only at the end). */
static void
on_wal(void *arg, int pages)
{
	(void)arg;
	wal_frames += pages - wal_last;
	wal_last = pages;
}

static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	struct cfg cfg;
	struct store *s = NULL;
	struct stripe_verifier v;
	struct bev *ev;
	struct apply_result *res;
	char **bodies, **sigs, why[256];
	const char *w;
	int64_t n, batch, i, j, now = tm_now_ms(), t = now / 1000;
	double c0, c1, c2, w0, w1, verify_us = 0, parse_us = 0, apply_cpu = 0, apply_wall = 0;
	int from, to;

	if (argc != 4 || text_i64s(argv[2], 1, 10000000, &n) != TERR_OK ||
	    text_i64s(argv[3], 1, 64, &batch) != TERR_OK) {
		fprintf(stderr, "usage: micro DBPATH N BATCH\n");
		return 2;
	}
	cfg_defaults(&cfg);
	if (cfg_parse(&cfg, catalog, sizeof(catalog) - 1, why, sizeof(why)) != TERR_OK)
		return fprintf(stderr, "%s\n", why), 1;
	text_copy(cfg.stripe.secrets[0], SECRET_MAX, "whsec_micro");
	cfg.stripe.nsecrets = 1;
	stripe_verifier_init(&v, &cfg.stripe);
	unlink(argv[1]);
	if (store_open(&s, argv[1], STORE_MIGRATE) != TERR_OK || store_migrate(s, 0, &from, &to))
		return 1;
	store_close(s);
	if (store_open(&s, argv[1], STORE_RW) != TERR_OK)
		return 1;
	if (getenv("MICRO_NO_CHECKPOINT") != NULL)
		store_wal_watch(s, on_wal, NULL);

	bodies = calloc((size_t)n, sizeof(*bodies));
	sigs = calloc((size_t)n, sizeof(*sigs));
	ev = calloc((size_t)batch, sizeof(*ev));
	res = calloc((size_t)batch, sizeof(*res));
	for (i = 0; i < n; i++) {
		struct hmac_key k;
		struct iov parts[3];
		unsigned char mac[SHA256_LEN];
		char ts[24], hex[65];
		size_t len;
		bodies[i] = malloc(4096);
		len = (size_t)snprintf(bodies[i], 4096,
		    "{\"id\":\"evt_micro_%lld\",\"object\":\"event\",\"api_version\":\"2025-03-31.basil\","
		    "\"created\":%lld,\"livemode\":false,\"type\":\"checkout.session.completed\","
		    "\"data\":{\"object\":{\"id\":\"cs_%lld\",\"object\":\"checkout.session\","
		    "\"mode\":\"payment\",\"payment_status\":\"paid\",\"payment_intent\":\"pi_%lld\","
		    "\"client_reference_id\":\"user_%lld\",\"amount_total\":500,\"currency\":\"usd\","
		    "\"customer\":null,\"metadata\":{\"product\":\"credits_500\",\"note\":\"%0*d\"}}}}",
		    (long long)i, (long long)t, (long long)i, (long long)i, (long long)(i % 5000), 1200,
		    0);
		snprintf(ts, sizeof(ts), "%lld", (long long)t);
		parts[0].p = ts;
		parts[0].n = strlen(ts);
		parts[1].p = ".";
		parts[1].n = 1;
		parts[2].p = bodies[i];
		parts[2].n = len;
		crypto_hmac_init(&k, "whsec_micro", 11);
		crypto_hmac_sha256(&k, parts, 3, mac);
		crypto_hmac_release(&k);
		text_hex(mac, SHA256_LEN, hex);
		sigs[i] = malloc(128);
		snprintf(sigs[i], 128, "t=%s,v1=%s", ts, hex);
	}
	for (i = 0; i < n; i += batch) {
		int64_t k = i + batch <= n ? batch : n - i;
		for (j = 0; j < k; j++) {
			c0 = cpu_us();
			if (stripe_verify(&v, sigs[i + j], bodies[i + j], strlen(bodies[i + j]), now, &w))
				return fprintf(stderr, "verify: %s\n", w), 1;
			c1 = cpu_us();
			if (stripe_parse(&cfg, bodies[i + j], strlen(bodies[i + j]), &ev[j], why,
				sizeof(why)))
				return fprintf(stderr, "parse: %s\n", why), 1;
			c2 = cpu_us();
			verify_us += c1 - c0;
			parse_us += c2 - c1;
		}
		c0 = cpu_us();
		w0 = wall_us();
		if (apply_batch(s, &cfg, ev, (size_t)k, res, now) != TERR_OK)
			return fprintf(stderr, "apply failed\n"), 1;
		apply_cpu += cpu_us() - c0;
		apply_wall += (w1 = wall_us()) - w0;
	}
	printf("events %lld batch %lld: verify %.1f us, parse %.1f us, apply %.1f us CPU/event; "
	       "apply wall %.1f us/event, %.0f commits/s\n",
	    (long long)n, (long long)batch, verify_us / n, parse_us / n, apply_cpu / n,
	    apply_wall / n, (n / (double)batch) / (apply_wall / 1e6));
	if (wal_frames > 0)
		printf("WAL frames per event: %.1f\n", wal_frames / (double)n);
	store_close(s);
	stripe_verifier_release(&v);
	cfg_release(&cfg);
	return 0;
}
