/*
 * Outbound HTTP over libcurl: provider APIs (reconciliation, checkout,
 * Bot API calls) and the outbox's deliveries. The proxy is tally's own
 * configuration (http.proxy) and never the environment's: a CGI process
 * gets HTTP_PROXY from a client's "Proxy:" header (httpoxy). Only http and
 * https; no redirects; a bounded response; timeouts from the config.
 */
#ifndef TALLY_HTTPC_H
#define TALLY_HTTPC_H

#include <stddef.h>

#include "base/buf.h"
#include "cfg/cfg.h"

/* Largest response body read from a provider's API. */
#define HTTPC_BODY_MAX (4 * 1024 * 1024)
/*
 * Idle handles (and their open connections) a process keeps for GETs, one
 * per thread that made a GET at once: the handlers' 32 threads fit.
 */
#define HTTPC_POOL_MAX 64

struct httpc_req {
	const char *method; /* "GET", "POST", "PUT", "DELETE" */
	const char *url;
	const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
	const char *body;           /* NULL: no body */
	size_t body_len;
	const char *basic_user; /* HTTP Basic credentials, or NULL */
	const char *basic_pass;
};

/* The longest value of the one response header a caller may ask to keep. */
#define HTTPC_HEADER_MAX 512

struct httpc_resp {
	long status;      /* 0 when no response arrived */
	struct buf body;  /* the response body (httpc_resp_init / _release) */
	long retry_after; /* seconds from a Retry-After header, -1 when none */
	/*
	 * One header to keep, set by the caller after httpc_resp_init (which
	 * sets NULL: none), e.g. "Cache-Control". Its value lands in header,
	 * trimmed, repeated fields joined with ", " (RFC 9110 5.3); "" when
	 * absent, or when the whole value does not fit (header_over set).
	 */
	const char *header_name;
	char header[HTTPC_HEADER_MAX];
	int header_over;
};

/* Once per process, before threads (curl_global_init). */
void httpc_init(void);

void httpc_resp_init(struct httpc_resp *r, size_t max);
void httpc_resp_release(struct httpc_resp *r);

/*
 * Perform req. TERR_OK when a response arrived, whatever its status
 * (r->status says); TERR_IO when none did (DNS, connect, TLS, timeout), with
 * a reason in why; TERR_TOOBIG when the body passed its maximum. A GET's
 * connection is kept open for the process's next GET to the same host
 * (HTTPC_POOL_MAX); every other method opens and closes its own.
 */
enum terr httpc_do(const struct cfg_http *h, const struct httpc_req *req, struct httpc_resp *r,
    char *why, size_t whysize);

/* Append s to b percent-encoded for a URL path segment or query value (RFC 3986 2.3). */
void httpc_escape(struct buf *b, const char *s);

#endif
