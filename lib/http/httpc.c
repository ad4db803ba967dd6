#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/text.h"
#include "http/httpc.h"

/*
 * Handles kept for GETs, each with the connections it opened (libcurl's
 * connection cache lives in the handle and survives curl_easy_reset): a
 * process that reads a provider's API request after request (a webhook
 * reading each purchase, reconciliation) opens a connection, and its TLS
 * session, once rather than per call. Only GETs: libcurl sends a request
 * again on a fresh connection when a kept one turns out closed before any
 * answer, which a read survives but a POST (a payment, a delivery) must not
 * risk. A forked child never uses its parent's handles (their sockets are
 * shared): it forgets them, left reachable here.
 */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static CURL *pool[HTTPC_POOL_MAX];
static size_t npool;
static pid_t pool_pid;

/* A kept handle (its options reset, its connections kept), or a new one; NULL out of memory. */
static CURL *
handle_take(int keep)
{
	CURL *c = NULL;

	if (keep) {
		pthread_mutex_lock(&pool_mu);
		if (pool_pid != getpid()) {
			npool = 0;
			pool_pid = getpid();
		}
		if (npool > 0)
			c = pool[--npool];
		pthread_mutex_unlock(&pool_mu);
	}
	return c != NULL ? c : curl_easy_init();
}

/* Back to the pool (its options reset: no pointer into the caller's frame stays), or freed. */
static void
handle_give(CURL *c, int keep)
{
	if (keep) {
		curl_easy_reset(c);
		pthread_mutex_lock(&pool_mu);
		if (pool_pid == getpid() && npool < HTTPC_POOL_MAX) {
			pool[npool++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&pool_mu);
	}
	if (c != NULL)
		curl_easy_cleanup(c);
}

void
httpc_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
httpc_resp_init(struct httpc_resp *r, size_t max)
{
	r->status = 0;
	r->retry_after = -1;
	r->header_name = NULL;
	r->header[0] = '\0';
	r->header_over = 0;
	buf_init(&r->body, max);
}

void
httpc_resp_release(struct httpc_resp *r)
{
	buf_release(&r->body);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct httpc_resp *r = arg;

	buf_append(&r->body, p, size * n);
	/* Returning less than given aborts the transfer (CURLE_WRITE_ERROR): past the maximum. */
	return r->body.err == TERR_OK ? size * n : 0;
}

/* The header the caller asked for (httpc_resp.header_name): p[0..len) is one header line. */
static void
keep_header(struct httpc_resp *r, const char *p, size_t len)
{
	size_t k = strlen(r->header_name), have = strlen(r->header);

	/* A status line starts a response (an interim 1xx, then the final one): only the last counts. */
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		r->header[0] = '\0';
		r->header_over = 0;
		return;
	}
	if (r->header_over || len <= k || strncasecmp(p, r->header_name, k) != 0 || p[k] != ':')
		return;
	for (p += k + 1, len -= k + 1; len > 0 && (*p == ' ' || *p == '\t'); p++, len--)
		;
	while (len > 0 &&
	    (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (have + (have > 0 ? 2 : 0) + len >= sizeof(r->header)) {
		r->header[0] = '\0';
		r->header_over = 1;
		return;
	}
	if (have > 0) {
		memcpy(r->header + have, ", ", 2);
		have += 2;
	}
	memcpy(r->header + have, p, len);
	r->header[have + len] = '\0';
}

/* Retry-After as delay-seconds (RFC 9110 10.2.3); an HTTP-date is not read. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct httpc_resp *r = arg;
	static const char name[] = "retry-after:";
	size_t len = size * n, i, k = sizeof(name) - 1;
	int64_t v;

	if (r->header_name != NULL)
		keep_header(r, p, len);
	if (len > k && strncasecmp(p, name, k) == 0) {
		while (k < len && p[k] == ' ')
			k++;
		for (i = k; i < len && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i > k && text_i64(p + k, i - k, 0, 86400, &v) == TERR_OK)
			r->retry_after = (long)v;
	}
	return len;
}

enum terr
httpc_do(const struct cfg_http *h, const struct httpc_req *req, struct httpc_resp *r, char *why,
    size_t whysize)
{
	struct curl_slist *hdrs = NULL, *tmp;
	char errbuf[CURL_ERROR_SIZE] = "";
	int keep = strcmp(req->method, "GET") == 0 && req->body == NULL;
	CURL *curl;
	CURLcode cc;
	size_t i;
	enum terr rc = TERR_IO;

	r->status = 0;
	r->retry_after = -1;
	r->header[0] = '\0';
	r->header_over = 0;
	buf_reset(&r->body);
	if ((curl = handle_take(keep)) == NULL) {
		snprintf(why, whysize, "curl_easy_init failed");
		return TERR_NOMEM;
	}
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
		if ((tmp = curl_slist_append(hdrs, req->headers[i])) == NULL) {
			rc = TERR_NOMEM;
			goto out;
		}
		hdrs = tmp;
	}
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	/* "" disables proxies, including those libcurl would take from the environment. */
	curl_easy_setopt(curl, CURLOPT_PROXY, h->proxy);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)h->timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_timeout);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "tally/1");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	if (req->basic_user != NULL) {
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME, req->basic_user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD,
		    req->basic_pass != NULL ? req->basic_pass : "");
	}
	cc = curl_easy_perform(curl);
	if (cc == CURLE_WRITE_ERROR && r->body.err != TERR_OK) {
		snprintf(why, whysize, "response body larger than %zu bytes", r->body.max);
		rc = r->body.err;
		goto out;
	}
	if (cc != CURLE_OK) {
		/* The URL may carry a token (Telegram's Bot API): name the failure, not the URL. */
		snprintf(why, whysize, "%s", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
		rc = TERR_IO;
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	rc = TERR_OK;
out:
	/* A transfer that failed may leave its connection half-used: not kept. */
	handle_give(curl, keep && rc == TERR_OK);
	curl_slist_free_all(hdrs);
	return rc;
}

void
httpc_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			buf_putc(b, (char)c);
		else {
			buf_putc(b, '%');
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
}
