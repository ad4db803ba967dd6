#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/text.h"
#include "http/http.h"

void
http_req_init(struct http_req *r, FCGX_Request *f, size_t body_max)
{
	r->fcgi = f;
	r->status = 0;
	r->why = NULL;
	if (r->body.max != body_max) {
		buf_release(&r->body);
		buf_init(&r->body, body_max);
	} else
		buf_reset(&r->body);
}

void
http_req_release(struct http_req *r)
{
	buf_release(&r->body);
}

const char *
http_param(const struct http_req *r, const char *name)
{
	if (r->fcgi != NULL)
		return FCGX_GetParam(name, r->fcgi->envp);
	return getenv(name);
}

int
http_headers_fit(const struct http_req *r, size_t max)
{
	extern char **environ;
	char **env = r->fcgi != NULL ? r->fcgi->envp : environ;
	const char *eq;

	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, "HTTP_", 5) == 0 && (eq = strchr(*env, '=')) != NULL &&
		    strlen(eq + 1) > max)
			return 0;
	return 1;
}

const char *
http_header(const struct http_req *r, const char *name)
{
	char var[128];
	size_t i, n = strlen(name);

	if (n + 6 > sizeof(var))
		return NULL;
	memcpy(var, "HTTP_", 5);
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (c == '-')
			c = '_';
		else if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		var[5 + i] = c;
	}
	var[5 + n] = '\0';
	return http_param(r, var);
}

const char *
http_method(const struct http_req *r)
{
	const char *m = http_param(r, "REQUEST_METHOD");

	return m != NULL ? m : "";
}

void
http_path(const struct http_req *r, char *out, size_t size)
{
	const char *uri = http_param(r, "DOCUMENT_URI");
	size_t n;

	/*
	 * nginx sets DOCUMENT_URI; plain CGI servers SCRIPT_NAME + PATH_INFO (RFC 3875 4.1.5).
	 * Caddy sends DOCUMENT_URI empty: as good as absent.
	 */
	if (uri == NULL || uri[0] == '\0') {
		const char *sn = http_param(r, "SCRIPT_NAME"), *pi = http_param(r, "PATH_INFO");
		snprintf(out, size, "%s%s", sn != NULL ? sn : "", pi != NULL ? pi : "");
		return;
	}
	n = strcspn(uri, "?");
	if (text_copyn(out, size, uri, n) != TERR_OK)
		out[0] = '\0';
}

static ssize_t
read_some(struct http_req *r, char *dst, size_t n)
{
	ssize_t got;

	if (r->fcgi != NULL)
		return FCGX_GetStr(dst, (int)n, r->fcgi->in);
	do
		got = read(STDIN_FILENO, dst, n);
	while (got < 0 && errno == EINTR);
	return got;
}

int
http_read_body(struct http_req *r, size_t max)
{
	const char *cl = http_param(r, "CONTENT_LENGTH");
	int64_t len;
	size_t have = 0;
	char *dst;

	/* RFC 3875 4.1.2: CONTENT_LENGTH is set iff there is a body. */
	if (cl == NULL || *cl == '\0') {
		if (strcmp(http_method(r), "POST") != 0 && strcmp(http_method(r), "PUT") != 0)
			return 0;
		r->why = "Content-Length required";
		return 411;
	}
	if (text_i64s(cl, 0, INT64_MAX, &len) != TERR_OK) {
		r->why = "Content-Length malformed";
		return 400;
	}
	if (len == 0)
		return 0;
	if ((uint64_t)len > max || (dst = buf_reserve(&r->body, (size_t)len)) == NULL) {
		r->why = "request body too large";
		return 413;
	}
	while (have < (size_t)len) {
		ssize_t got = read_some(r, dst + have, (size_t)len - have);
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	buf_commit(&r->body, have);
	if (have != (size_t)len) {
		r->why = "request body shorter than its Content-Length";
		return 400;
	}
	/* The byte order mark (http.h): read whole, then refused, so the stream stays in step. */
	if (have >= 3 && memcmp(r->body.p, "\xef\xbb\xbf", 3) == 0) {
		r->why =
		    "the body begins with a UTF-8 byte order mark (EF BB BF): expected JSON or a "
		    "form without one (RFC 8259 section 8.1)";
		return 400;
	}
	return 0;
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

static void
write_all(struct http_req *r, const char *p, size_t n)
{
	size_t off = 0;
	ssize_t w;

	if (r->fcgi != NULL) {
		FCGX_PutStr(p, (int)n, r->fcgi->out);
		return;
	}
	while (off < n) {
		w = write(STDOUT_FILENO, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

void
http_reply(struct http_req *r, int status, const char *ctype, const char *extra_headers,
    const char *body, size_t n)
{
	static const char toolong[] = "{\"error\":{\"code\":\"internal\",\"message\":"
				      "\"the answer's headers did not fit: not sent\"}}\n";
	struct logline l;
	char head[HTTP_HEAD_MAX];
	int hn;

	if (r->status != 0)
		return; /* one reply per request */
	r->status = status;
	hn = snprintf(head, sizeof(head),
	    "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n%s\r\n",
	    status, http_status_text(status), ctype, n, extra_headers);
	if (hn < 0 || (size_t)hn >= sizeof(head)) {
		/*
		 * Cut headers would be a broken answer, and none at all leaves the
		 * web server to make one up (an empty answer, or its own 502): the
		 * answer becomes a 500 that always fits, and the log says so (sizes
		 * only: the headers may carry a session cookie).
		 */
		log_begin(&l, LOG_ERROR,
		    "response headers past HTTP_HEAD_MAX: answered 500 instead");
		log_int(&l, "status_meant", status);
		log_int(&l, "head_bytes", hn);
		log_int(&l, "head_max", (int64_t)sizeof(head));
		log_end(&l);
		r->status = 500;
		n = sizeof(toolong) - 1;
		body = toolong;
		hn = snprintf(head, sizeof(head),
		    "Status: 500 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		    "Cache-Control: no-store\r\n\r\n",
		    http_status_text(500), n);
	}
	write_all(r, head, (size_t)hn);
	write_all(r, body, n);
}

void
http_reply_json(struct http_req *r, int status, const struct buf *doc)
{
	http_reply(r, status, "application/json", "", buf_cstr(doc), doc->len);
}

void
http_error(struct http_req *r, int status, const char *code, const char *msg)
{
	http_error_h(r, status, "", code, msg);
}

void
http_error_h(struct http_req *r, int status, const char *headers, const char *code, const char *msg)
{
	char storage[1024];
	struct buf b;
	struct jw w;

	/* Every refusal says why: a caller that gave no reason is named as the bug it is. */
	if (msg == NULL || *msg == '\0') {
		log_msg(LOG_ERROR, "refusal without a reason", code);
		msg = "refused without a reason (a bug in tally: please report it)";
	}
	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_key(&w, "error");
	jw_obj(&w);
	jw_kstr(&w, "code", code);
	jw_kstr(&w, "message", msg);
	jw_end(&w);
	jw_end(&w);
	buf_putc(&b, '\n');
	if (b.err != TERR_OK) {
		buf_reset(&b);
		buf_puts(&b,
		    "{\"error\":{\"code\":\"internal\",\"message\":\"error too long\"}}\n");
	}
	http_reply(r, status, "application/json", headers, buf_cstr(&b), b.len);
}
