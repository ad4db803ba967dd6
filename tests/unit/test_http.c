/*
 * lib/http/http.h in CGI mode (RFC 3875: meta-variables in the environment, body
 * on stdin, answer on stdout), with stdin, stdout and stderr redirected so
 * the bytes the web server would get, and the log line, are seen exactly:
 * an answer whose headers pass HTTP_HEAD_MAX is a logged 500, never nothing;
 * a refusal without a reason still says why (and is logged as the bug it
 * is); a body that begins with a UTF-8 byte order mark is refused with its
 * reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "t.h"

/* What one call wrote to stdout and stderr. */
struct captured {
	char out[8192];
	char err[8192];
};

static void
slurp(FILE *f, char *dst, size_t size)
{
	size_t n;

	rewind(f);
	n = fread(dst, 1, size - 1, f);
	dst[n] = '\0';
	fclose(f);
}

/* Run http_reply with stdout and stderr sent to files; r keeps its status. */
static void
reply_captured(struct http_req *r, int status, const char *headers, const char *body,
    struct captured *c)
{
	FILE *o = tmpfile(), *e = tmpfile();
	int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO);

	memset(c, 0, sizeof(*c));
	if (o == NULL || e == NULL || so < 0 || se < 0)
		return;
	fflush(stdout);
	dup2(fileno(o), STDOUT_FILENO);
	dup2(fileno(e), STDERR_FILENO);
	http_reply(r, status, "application/json", headers, body, strlen(body));
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	slurp(o, c->out, sizeof(c->out));
	slurp(e, c->err, sizeof(c->err));
}

/* A header line of n bytes in all ("X-Pad: ppp...\r\n"). */
static char *
header_of(size_t n)
{
	char *h = malloc(n + 1);

	if (h == NULL)
		return NULL;
	memset(h, 'p', n);
	memcpy(h, "X-Pad: ", 7);
	memcpy(h + n - 2, "\r\n", 2);
	h[n] = '\0';
	return h;
}

TEST(reply_sends_headers_that_fit)
{
	struct http_req r;
	struct captured c;
	char *h = header_of(200);

	CHECK(h != NULL);
	memset(&r, 0, sizeof(r));
	http_req_init(&r, NULL, 1024);
	reply_captured(&r, 201, h, "{\"ok\":true}", &c);
	free(h);
	http_req_release(&r);
	CHECK_EQ(r.status, 201);
	CHECK(strncmp(c.out, "Status: 201 Created\r\n", 21) == 0);
	CHECK(strstr(c.out, "X-Pad: ppp") != NULL);
	CHECK(strstr(c.out, "\r\n\r\n{\"ok\":true}") != NULL);
	CHECK(c.err[0] == '\0');
}

TEST(reply_whose_headers_pass_the_buffer_is_a_logged_500_not_nothing)
{
	struct http_req r;
	struct captured c;
	char *h = header_of(HTTP_HEAD_MAX + 100);

	CHECK(h != NULL);
	memset(&r, 0, sizeof(r));
	http_req_init(&r, NULL, 1024);
	reply_captured(&r, 303, h, "", &c);
	free(h);
	http_req_release(&r);
	/* Today's code wrote nothing at all and kept 303 as the status. */
	CHECK(c.out[0] != '\0');
	CHECK(strncmp(c.out, "Status: 500 Internal Server Error\r\n", 35) == 0);
	CHECK_EQ(r.status, 500);
	/* Nothing of the headers that did not fit is sent, or logged (they may hold a cookie). */
	CHECK(strstr(c.out, "X-Pad") == NULL);
	CHECK(strstr(c.out, "\"code\":\"internal\"") != NULL);
	CHECK(strstr(c.err, "\"level\":\"error\"") != NULL);
	CHECK(strstr(c.err, "response headers past HTTP_HEAD_MAX") != NULL);
	CHECK(strstr(c.err, "\"status_meant\":303") != NULL);
	CHECK(strstr(c.err, "ppp") == NULL);
}

TEST(reply_one_byte_short_of_the_buffer_is_sent_as_it_is)
{
	struct http_req r;
	struct captured c;
	/* Everything but the extra header: the status line and the three fixed headers. */
	const char *fixed = "Status: 200 OK\r\nContent-Type: application/json\r\n"
			    "Content-Length: 2\r\nCache-Control: no-store\r\n\r\n";
	char *h = header_of(HTTP_HEAD_MAX - 1 - strlen(fixed));

	CHECK(h != NULL);
	memset(&r, 0, sizeof(r));
	http_req_init(&r, NULL, 1024);
	reply_captured(&r, 200, h, "{}", &c);
	free(h);
	http_req_release(&r);
	CHECK_EQ(r.status, 200);
	CHECK(strncmp(c.out, "Status: 200 OK\r\n", 16) == 0);
	CHECK_EQ(strlen(c.out), HTTP_HEAD_MAX - 1 + 2);
}

/* Run http_error with stdout and stderr sent to files. */
static void
error_captured(struct http_req *r, const char *msg, struct captured *c)
{
	FILE *o = tmpfile(), *e = tmpfile();
	int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO);

	memset(c, 0, sizeof(*c));
	if (o == NULL || e == NULL || so < 0 || se < 0)
		return;
	fflush(stdout);
	dup2(fileno(o), STDOUT_FILENO);
	dup2(fileno(e), STDERR_FILENO);
	http_error(r, 400, "some_code", msg);
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	slurp(o, c->out, sizeof(c->out));
	slurp(e, c->err, sizeof(c->err));
}

TEST(error_without_a_reason_still_says_why_and_is_logged)
{
	struct http_req r;
	struct captured c;

	memset(&r, 0, sizeof(r));
	http_req_init(&r, NULL, 1024);
	error_captured(&r, "", &c);
	http_req_release(&r);
	CHECK_EQ(r.status, 400);
	CHECK(strstr(c.out, "\"message\":\"\"") == NULL);
	CHECK(strstr(c.out, "\"message\":\"refused without a reason") != NULL);
	CHECK(strstr(c.err, "refusal without a reason") != NULL);
	CHECK(strstr(c.err, "some_code") != NULL);
	http_req_init(&r, NULL, 1024);
	error_captured(&r, "a reason", &c);
	http_req_release(&r);
	CHECK(strstr(c.out, "\"message\":\"a reason\"") != NULL);
	CHECK(c.err[0] == '\0');
}

/* http_read_body of a CGI request whose body is p[0..n). */
static int
read_body_of(const char *p, size_t n, struct http_req *r)
{
	char len[32];
	int fds[2], saved, status;

	snprintf(len, sizeof(len), "%zu", n);
	setenv("REQUEST_METHOD", "POST", 1);
	setenv("CONTENT_LENGTH", len, 1);
	if (pipe(fds) != 0)
		return -1;
	if (write(fds[1], p, n) != (ssize_t)n)
		return -1;
	close(fds[1]);
	saved = dup(STDIN_FILENO);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	memset(r, 0, sizeof(*r));
	http_req_init(r, NULL, 4096);
	status = http_read_body(r, 4096);
	dup2(saved, STDIN_FILENO);
	close(saved);
	unsetenv("REQUEST_METHOD");
	unsetenv("CONTENT_LENGTH");
	return status;
}

TEST(read_body_refuses_a_byte_order_mark_with_its_reason)
{
	struct http_req r;
	const char body[] = "\xef\xbb\xbf{\"a\":1}";
	int status = read_body_of(body, sizeof(body) - 1, &r);

	/* Read whole (the stream stays in step), kept exactly as received, and refused. */
	CHECK_EQ(r.body.len, sizeof(body) - 1);
	CHECK(memcmp(r.body.p, body, sizeof(body) - 1) == 0);
	http_req_release(&r);
	CHECK_EQ(status, 400);
	CHECK(r.why != NULL && strstr(r.why, "byte order mark") != NULL);
}

TEST(read_body_takes_the_same_body_without_the_mark)
{
	struct http_req r;
	int status = read_body_of("{\"a\":1}", 7, &r);

	CHECK_EQ(r.body.len, 7);
	http_req_release(&r);
	CHECK_EQ(status, 0);
	CHECK(r.why == NULL);
}

TEST(read_body_takes_a_mark_that_is_not_first)
{
	struct http_req r;
	/* U+FEFF inside a string is a character like any other (RFC 8259 section 7). */
	const char body[] = "{\"a\":\"\xef\xbb\xbf\"}";
	int status = read_body_of(body, sizeof(body) - 1, &r);

	http_req_release(&r);
	CHECK_EQ(status, 0);
}

TEST(read_body_says_why_for_every_refusal)
{
	struct http_req r;
	int status;

	setenv("REQUEST_METHOD", "POST", 1);
	unsetenv("CONTENT_LENGTH");
	memset(&r, 0, sizeof(r));
	http_req_init(&r, NULL, 4096);
	status = http_read_body(&r, 4096);
	http_req_release(&r);
	CHECK_EQ(status, 411);
	CHECK(r.why != NULL && r.why[0] != '\0');
	setenv("CONTENT_LENGTH", "12x", 1);
	http_req_init(&r, NULL, 4096);
	status = http_read_body(&r, 4096);
	http_req_release(&r);
	CHECK_EQ(status, 400);
	CHECK(r.why != NULL && r.why[0] != '\0');
	setenv("CONTENT_LENGTH", "5000", 1);
	http_req_init(&r, NULL, 4096);
	status = http_read_body(&r, 4096);
	http_req_release(&r);
	unsetenv("REQUEST_METHOD");
	unsetenv("CONTENT_LENGTH");
	CHECK_EQ(status, 413);
	CHECK(r.why != NULL && r.why[0] != '\0');
}

int
main(void)
{
	RUN(reply_sends_headers_that_fit);
	RUN(reply_whose_headers_pass_the_buffer_is_a_logged_500_not_nothing);
	RUN(reply_one_byte_short_of_the_buffer_is_sent_as_it_is);
	RUN(error_without_a_reason_still_says_why_and_is_logged);
	RUN(read_body_refuses_a_byte_order_mark_with_its_reason);
	RUN(read_body_takes_the_same_body_without_the_mark);
	RUN(read_body_takes_a_mark_that_is_not_first);
	RUN(read_body_says_why_for_every_refusal);
	return t_done();
}
