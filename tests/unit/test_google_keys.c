/*
 * lib/providers/google/google_keys.c, and httpc's copy of one named
 * response header: the push tokens' key set cache against a tiny HTTP
 * server on 127.0.0.1 (a thread here) that serves a JWK set with a
 * Cache-Control header and counts requests. Times are passed in, so expiry
 * is tested without waiting.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/text.h"
#include "http/httpc.h"
#include "providers/google/google_keys.h"
#include "t.h"

#define T0 1700000000LL

/* What the server answers; guarded by srv_mu. */
static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;
static int srv_status = 200;
static char srv_cc[256]; /* Cache-Control lines, "\r\n"-separated; "" for none */
static char srv_body[8192];
static int srv_requests;
static int srv_fd = -1;
static int srv_port;
static pthread_t srv_thread;

static char n_b64[1024]; /* one RSA key's modulus, base64url, used under every kid */
static struct cfg_http http = { "", 2000, 1000 };

static void *
serve(void *arg)
{
	char req[8192], resp[16384];
	int fd, len, n;
	size_t got;

	(void)arg;
	while ((fd = accept(srv_fd, NULL, NULL)) >= 0) {
		got = 0;
		req[0] = '\0';
		while (got < sizeof(req) - 1 && strstr(req, "\r\n\r\n") == NULL &&
		    (n = (int)read(fd, req + got, sizeof(req) - 1 - got)) > 0) {
			got += (size_t)n;
			req[got] = '\0';
		}
		pthread_mutex_lock(&srv_mu);
		srv_requests++;
		len = snprintf(resp, sizeof(resp),
		    "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s%sContent-Length: "
		    "%zu\r\nConnection: close\r\n\r\n%s",
		    srv_status, srv_cc, srv_cc[0] ? "\r\n" : "", strlen(srv_body), srv_body);
		pthread_mutex_unlock(&srv_mu);
		if (write(fd, resp, (size_t)len) < 0)
			perror("write");
		close(fd);
	}
	return NULL;
}

static int
serve_start(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((srv_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(srv_fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(srv_fd, 16) != 0 ||
	    getsockname(srv_fd, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	srv_port = ntohs(a.sin_port);
	return pthread_create(&srv_thread, NULL, serve, NULL);
}

static void
serve_stop(void)
{
	shutdown(srv_fd, SHUT_RDWR);
	close(srv_fd);
	pthread_join(srv_thread, NULL);
}

/* The next answers: status, Cache-Control line(s), and a JWK set with nkids keys (0: body as given). */
static void
answer(int status, const char *cc, int nkids, const char *body)
{
	struct buf b;
	int i;

	buf_init(&b, sizeof(srv_body));
	if (nkids > 0) {
		buf_puts(&b, "{\"keys\":[");
		for (i = 0; i < nkids; i++)
			buf_printf(&b,
			    "%s{\"kid\":\"kid%d\",\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":"
			    "\"sig\",\"n\":\"%s\",\"e\":\"AQAB\"}",
			    i ? "," : "", i, n_b64);
		buf_puts(&b, "]}");
	} else
		buf_puts(&b, body);
	pthread_mutex_lock(&srv_mu);
	srv_status = status;
	text_copy(srv_cc, sizeof(srv_cc), cc);
	text_copy(srv_body, sizeof(srv_body), buf_cstr(&b));
	pthread_mutex_unlock(&srv_mu);
	buf_release(&b);
}

static int
requests(void)
{
	int n;

	pthread_mutex_lock(&srv_mu);
	n = srv_requests;
	pthread_mutex_unlock(&srv_mu);
	return n;
}

static struct google_keycache *
cache(void)
{
	char url[128];
	struct google_keycache *c = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/oauth2/v3/certs", srv_port);
	google_keycache_new(&http, url, &c);
	return c;
}

/* The number of keys the cache hands out at now (-1: none), and its return code. */
static size_t
count_at(struct google_keycache *c, int64_t now, enum terr *rc)
{
	struct google_keyset *s = NULL;
	char why[256] = "";
	size_t n;

	*rc = google_keycache_get(c, now, &s, why, sizeof(why));
	n = s != NULL ? google_keys_count(google_keyset_keys(s)) : (size_t)-1;
	google_keyset_put(s);
	return n;
}

TEST(google_keys_fetch_once_within_max_age_then_again_after)
{
	struct google_keycache *c = cache();
	int before = requests();
	enum terr rc;

	answer(200, "Cache-Control: public, max-age=600, must-revalidate", 2, NULL);
	CHECK(c != NULL);
	CHECK_EQ(count_at(c, T0, &rc), 2);
	CHECK_EQ(rc, TERR_OK);
	CHECK_EQ(requests() - before, 1);
	CHECK_EQ(count_at(c, T0 + 599, &rc), 2);
	CHECK_EQ(requests() - before, 1);
	answer(200, "Cache-Control: max-age=600", 3, NULL);
	CHECK_EQ(count_at(c, T0 + 600, &rc), 3);
	CHECK_EQ(rc, TERR_OK);
	CHECK_EQ(requests() - before, 2);
	CHECK_EQ(google_keycache_fetches(c), 2);
	google_keycache_free(c);
}

/*
 * 1 when a set answered with these Cache-Control line(s) is fetched once,
 * kept until T0 + ttl - 1 and fetched again at T0 + ttl.
 */
static int
kept_for(const char *cc, int64_t ttl)
{
	struct google_keycache *c = cache();
	int before = requests(), ok;
	enum terr rc;

	answer(200, cc, 1, NULL);
	ok = count_at(c, T0, &rc) == 1 && count_at(c, T0 + ttl - 1, &rc) == 1 &&
	    requests() - before == 1 && count_at(c, T0 + ttl, &rc) == 1 && requests() - before == 2;
	google_keycache_free(c);
	if (!ok)
		printf("# \"%s\": not kept exactly %lld s\n", cc, (long long)ttl);
	return ok;
}

TEST(google_keys_no_store_is_kept_for_the_floor)
{
	CHECK(kept_for("Cache-Control: no-store, max-age=600", GOOGLE_KEYS_TTL_MIN));
	CHECK(kept_for("Cache-Control: max-age=5", GOOGLE_KEYS_TTL_MIN));
}

TEST(google_keys_no_cache_control_is_kept_for_the_floor)
{
	CHECK(kept_for("", GOOGLE_KEYS_TTL_MIN));
}

TEST(google_keys_long_max_age_is_capped_at_a_day)
{
	CHECK(kept_for("Cache-Control: max-age=31536000", GOOGLE_KEYS_TTL_MAX));
}

/* Two Cache-Control fields are one list (RFC 9110 5.3): httpc joins them, so max-age is seen. */
TEST(google_keys_repeated_cache_control_fields_are_joined)
{
	CHECK(kept_for("Cache-Control: public\r\nCache-Control: max-age=300", 300));
	CHECK(kept_for("cache-control:   max-age=400  ", 400));
}

TEST(google_keys_unknown_kid_refetches_once_then_is_rate_limited)
{
	struct google_keycache *c = cache();
	struct google_keyset *s = NULL;
	char why[256];
	int before = requests(), fetched = -1;
	enum terr rc;

	answer(200, "Cache-Control: max-age=3600", 1, NULL);
	CHECK_EQ(count_at(c, T0, &rc), 1);
	answer(200, "Cache-Control: max-age=3600", 2, NULL);
	/* The set was fetched at T0: an unknown kid right after does not fetch again. */
	rc = google_keycache_refresh_on_unknown_kid(c, T0 + 5, &s, &fetched, why, sizeof(why));
	CHECK_EQ(rc, TERR_OK);
	CHECK_EQ(fetched, 0);
	CHECK_EQ(google_keys_count(google_keyset_keys(s)), 1);
	google_keyset_put(s);
	rc = google_keycache_refresh_on_unknown_kid(c, T0 + GOOGLE_KEYS_REFETCH_MIN, &s, &fetched,
	    why, sizeof(why));
	CHECK_EQ(rc, TERR_OK);
	CHECK_EQ(fetched, 1);
	CHECK_EQ(google_keys_count(google_keyset_keys(s)), 2);
	google_keyset_put(s);
	CHECK_EQ(requests() - before, 2);
	/* A flood of unknown kids within the window: no fetch. */
	for (int i = 0; i < 100; i++) {
		rc = google_keycache_refresh_on_unknown_kid(c,
		    T0 + GOOGLE_KEYS_REFETCH_MIN + 1 + i % GOOGLE_KEYS_REFETCH_MIN - 1, &s,
		    &fetched, why, sizeof(why));
		google_keyset_put(s);
		CHECK_EQ(fetched, 0);
	}
	CHECK_EQ(requests() - before, 2);
	/* The refetched set is fresh for its own max-age. */
	CHECK_EQ(count_at(c, T0 + 3000, &rc), 2);
	CHECK_EQ(requests() - before, 2);
	google_keycache_free(c);
}

TEST(google_keys_server_error_keeps_the_old_set_and_reports)
{
	struct google_keycache *c = cache();
	struct google_keyset *s = NULL;
	char why[256] = "";
	int before = requests();
	enum terr rc;

	answer(200, "Cache-Control: max-age=100", 2, NULL);
	CHECK_EQ(count_at(c, T0, &rc), 2);
	answer(500, "", 0, "{\"error\":\"backend\"}");
	rc = google_keycache_get(c, T0 + 100, &s, why, sizeof(why));
	CHECK_EQ(rc, TERR_IO);
	CHECK(strstr(why, "500") != NULL);
	CHECK(s != NULL);
	CHECK_EQ(google_keys_count(google_keyset_keys(s)), 2);
	google_keyset_put(s);
	CHECK_EQ(requests() - before, 2);
	/* Within the retry pause the old set is the answer, without a fetch. */
	CHECK_EQ(count_at(c, T0 + 100 + GOOGLE_KEYS_REFETCH_MIN - 1, &rc), 2);
	CHECK_EQ(rc, TERR_OK);
	CHECK_EQ(requests() - before, 2);
	/* After it, a fetch again, and a good answer replaces the set. */
	answer(200, "Cache-Control: max-age=100", 1, NULL);
	CHECK_EQ(count_at(c, T0 + 100 + GOOGLE_KEYS_REFETCH_MIN, &rc), 1);
	CHECK_EQ(rc, TERR_OK);
	CHECK_EQ(requests() - before, 3);
	google_keycache_free(c);
}

TEST(google_keys_malformed_set_keeps_the_old_set_and_reports)
{
	static const char *const bad[] = { "not json", "{\"keys\":[]}",
		"{\"keys\":[{\"kty\":\"RSA\","
		"\"alg\":\"RS256\",\"n\":\"!!\",\"e\":\"AQAB\",\"kid\":\"x\"}]}",
		"[]" };
	struct google_keycache *c = cache();
	struct google_keyset *s = NULL;
	char why[256] = "";
	int64_t t = T0;
	enum terr rc;

	answer(200, "Cache-Control: max-age=100", 2, NULL);
	CHECK_EQ(count_at(c, t, &rc), 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t += 200; /* past both the max-age and the retry pause */
		answer(200, "Cache-Control: max-age=100", 0, bad[i]);
		why[0] = '\0';
		rc = google_keycache_get(c, t, &s, why, sizeof(why));
		CHECK_EQ(rc, TERR_INVAL);
		CHECK(strncmp(why, "Google's key set: ", 18) == 0);
		CHECK(s != NULL);
		CHECK_EQ(google_keys_count(google_keyset_keys(s)), 2);
		google_keyset_put(s);
	}
	google_keycache_free(c);
}

TEST(google_keys_first_fetch_failing_gives_no_set_and_waits)
{
	struct google_keycache *c = cache();
	struct google_keyset *s = (struct google_keyset *)1;
	char why[256] = "";
	int before = requests();
	enum terr rc;

	answer(503, "", 0, "");
	rc = google_keycache_get(c, T0, &s, why, sizeof(why));
	CHECK_EQ(rc, TERR_IO);
	CHECK(s == NULL);
	why[0] = '\0';
	rc = google_keycache_get(c, T0 + 1, &s, why, sizeof(why));
	CHECK_EQ(rc, TERR_IO);
	CHECK(s == NULL);
	CHECK(why[0] != '\0');
	CHECK_EQ(requests() - before, 1);
	answer(200, "", 1, NULL);
	CHECK_EQ(count_at(c, T0 + GOOGLE_KEYS_REFETCH_MIN, &rc), 1);
	CHECK_EQ(requests() - before, 2);
	google_keycache_free(c);
}

TEST(google_keys_unreachable_url_is_an_io_error)
{
	struct google_keycache *c = NULL;
	struct google_keyset *s = NULL;
	char why[256] = "";

	CHECK_EQ(google_keycache_new(&http, "http://127.0.0.1:1/certs", &c), TERR_OK);
	CHECK_EQ(google_keycache_get(c, T0, &s, why, sizeof(why)), TERR_IO);
	CHECK(s == NULL);
	CHECK(why[0] != '\0');
	google_keycache_free(c);
}

/* A set handed out stays usable after a refresh replaced it and after the cache is gone. */
TEST(google_keys_reference_outlives_refresh_and_cache)
{
	struct google_keycache *c = cache();
	struct google_keyset *old = NULL;
	char why[256];
	enum terr rc;

	answer(200, "Cache-Control: max-age=100", 2, NULL);
	CHECK_EQ(google_keycache_get(c, T0, &old, why, sizeof(why)), TERR_OK);
	answer(200, "Cache-Control: max-age=100", 1, NULL);
	CHECK_EQ(count_at(c, T0 + 100, &rc), 1);
	google_keycache_free(c);
	CHECK_EQ(google_keys_count(google_keyset_keys(old)), 2);
	google_keyset_put(old);
}

static struct google_keycache *shared;

static void *
getter(void *arg)
{
	struct google_keyset *s = NULL;
	char why[256];

	(void)arg;
	for (int i = 0; i < 50; i++) {
		if (google_keycache_get(shared, T0 + i, &s, why, sizeof(why)) == TERR_OK)
			google_keyset_put(s);
	}
	return NULL;
}

/* Threads that find no set together make one fetch, not one each. */
TEST(google_keys_threads_share_one_fetch)
{
	pthread_t th[8];
	int before = requests();

	shared = cache();
	answer(200, "Cache-Control: max-age=600", 2, NULL);
	for (int i = 0; i < 8; i++)
		CHECK(pthread_create(&th[i], NULL, getter, NULL) == 0);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(requests() - before, 1);
	CHECK_EQ(google_keycache_fetches(shared), 1);
	google_keycache_free(shared);
}

TEST(google_keys_refuses_url_too_long)
{
	char url[URL_MAX + 8];
	struct google_keycache *c = (struct google_keycache *)1;

	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	CHECK_EQ(google_keycache_new(&http, url, &c), TERR_INVAL);
	CHECK(c == NULL);
}

/* One RSA modulus, base64url, for every kid the server publishes. */
static int
make_modulus(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	BIGNUM *bn = NULL;
	unsigned char bytes[512];
	int n;

	if (k == NULL || EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn) != 1)
		return -1;
	n = BN_bn2bin(bn, bytes);
	text_b64enc(bytes, (size_t)n, 1, n_b64, sizeof(n_b64));
	BN_free(bn);
	EVP_PKEY_free(k);
	return 0;
}

int
main(void)
{
	httpc_init();
	if (make_modulus() != 0 || serve_start() != 0) {
		printf("FAIL setup: no RSA key or no listening socket\n");
		return 1;
	}
	RUN(google_keys_fetch_once_within_max_age_then_again_after);
	RUN(google_keys_no_store_is_kept_for_the_floor);
	RUN(google_keys_no_cache_control_is_kept_for_the_floor);
	RUN(google_keys_long_max_age_is_capped_at_a_day);
	RUN(google_keys_repeated_cache_control_fields_are_joined);
	RUN(google_keys_unknown_kid_refetches_once_then_is_rate_limited);
	RUN(google_keys_server_error_keeps_the_old_set_and_reports);
	RUN(google_keys_malformed_set_keeps_the_old_set_and_reports);
	RUN(google_keys_first_fetch_failing_gives_no_set_and_waits);
	RUN(google_keys_unreachable_url_is_an_io_error);
	RUN(google_keys_reference_outlives_refresh_and_cache);
	RUN(google_keys_threads_share_one_fetch);
	RUN(google_keys_refuses_url_too_long);
	serve_stop();
	return t_done();
}
