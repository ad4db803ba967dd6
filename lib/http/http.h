/*
 * The request layer over libfcgi. One binary serves FastCGI (a request from
 * FCGX_Accept_r) or plain CGI (RFC 3875: meta-variables in the environment,
 * body on stdin, response on stdout); handlers see the same struct either way.
 */
#ifndef TALLY_HTTP_H
#define TALLY_HTTP_H

#include <fcgiapp.h>
#include <stddef.h>

#include "base/buf.h"

struct http_req {
	FCGX_Request *fcgi; /* NULL in CGI mode */
	struct buf body;    /* the raw body, exactly as received */
	int status;         /* status of the reply sent, 0 before */
	const char *why;    /* why http_read_body refused the body (static text), else NULL */
};

/* Bind r to a FastCGI request (f) or to the CGI environment (f == NULL). */
void http_req_init(struct http_req *r, FCGX_Request *f, size_t body_max);
/* Free per-request memory; r may be reused with http_req_init. */
void http_req_release(struct http_req *r);

/* A CGI meta-variable (RFC 3875 4.1): "REQUEST_METHOD", "CONTENT_LENGTH", ... or NULL. */
const char *http_param(const struct http_req *r, const char *name);
/*
 * A request header by its HTTP name ("Stripe-Signature"), read from its
 * meta-variable HTTP_STRIPE_SIGNATURE (RFC 3875 4.1.18). NULL when absent or
 * when the name does not fit.
 */
const char *http_header(const struct http_req *r, const char *name);
const char *http_method(const struct http_req *r);
/* 1 when every request header's value is at most max bytes (HEADER_MAX): else answer 431. */
int http_headers_fit(const struct http_req *r, size_t max);
/* The path of the request without its query string ("/webhooks/stripe"). */
void http_path(const struct http_req *r, char *out, size_t size);

/*
 * Read the body into r->body, at most max bytes.
 * Returns 0, or the HTTP status to answer, with r->why saying why: 411 (no
 * CONTENT_LENGTH on a method with a body), 413 (CONTENT_LENGTH past max:
 * nothing is read), 400 (CONTENT_LENGTH malformed, the body shorter than
 * announced, or a body that begins with a UTF-8 byte order mark).
 *
 * The byte order mark, one rule for every endpoint: RFC 8259 section 8.1
 * says a sender MUST NOT add one and a parser MAY ignore it. No provider
 * adds one, and their own libraries refuse one (JSON.parse, Python's
 * json.loads); ignoring it here would store, as the provider's words, bytes
 * its own tools cannot read back. So a body whose first bytes are EF BB BF
 * is refused 400 before anything reads it, whatever its signature: the body
 * is never altered, and a signature is only ever checked over the exact
 * bytes received.
 */
int http_read_body(struct http_req *r, size_t max);

/*
 * Send a complete response. extra_headers: "" or lines each ending in
 * "\r\n". The status line and headers must fit HTTP_HEAD_MAX bytes: past it
 * the answer is a 500 (logged, r->status 500), never an empty one.
 */
#define HTTP_HEAD_MAX 1024
void http_reply(struct http_req *r, int status, const char *ctype, const char *extra_headers,
    const char *body, size_t n);
/* Send a JSON document. */
void http_reply_json(struct http_req *r, int status, const struct buf *doc);
/*
 * Send {"error":{"code":code,"message":msg}} with status. A NULL or empty msg
 * is a bug of the caller: the answer still says so, and it is logged.
 */
void http_error(struct http_req *r, int status, const char *code, const char *msg);
/* The same with extra headers ("Allow: POST\r\n" for a 405). */
void http_error_h(struct http_req *r, int status, const char *headers, const char *code,
    const char *msg);

/* The reason phrase of an HTTP status (RFC 9110 15). */
const char *http_status_text(int status);

#endif
