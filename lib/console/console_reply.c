/*
 * The support console's answers. Every answer carries the security headers:
 * a Content-Security-Policy that allows the console's own stylesheet and
 * nothing else (no script at all, no frames, forms only to itself), framing
 * refused, no referrer, no MIME sniffing; http_reply adds Cache-Control:
 * no-store, so no page is kept by a browser or a proxy.
 */
#include <stdio.h>
#include <string.h>

#include "console/console_html.h"
#include "console/console_reply.h"

#define SECURITY_HEADERS                                                                           \
	"Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self' data:; "    \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'\r\n"                          \
	"X-Frame-Options: DENY\r\n"                                                                \
	"X-Content-Type-Options: nosniff\r\n"                                                      \
	"Referrer-Policy: same-origin\r\n"                                                         \
	"Cross-Origin-Opener-Policy: same-origin\r\n"

static void
send_typed(struct creq *q, int status, const char *ctype, const char *body, size_t n)
{
	char headers[sizeof(SECURITY_HEADERS) + sizeof(q->headers)];

	snprintf(headers, sizeof(headers), "%s%s", SECURITY_HEADERS, q->headers);
	http_reply(q->r, status, ctype, headers, body, n);
}

void
console_send(struct creq *q, int status)
{
	if (q->out.err != TERR_OK) {
		/* A page past CONSOLE_PAGE_MAX: say so rather than send half of it. */
		buf_reset(&q->out);
		buf_puts(&q->out,
		    "<!doctype html><title>Too large</title><p>This page is too large "
		    "to show.</p>\n");
		status = 500;
	}
	send_typed(q, status, "text/html; charset=utf-8", buf_cstr(&q->out), q->out.len);
}

void
console_redirect(struct creq *q, const char *location)
{
	size_t used = strlen(q->headers);

	if ((size_t)snprintf(q->headers + used, sizeof(q->headers) - used, "Location: %s\r\n",
		location) >= sizeof(q->headers) - used) {
		q->headers[used] = '\0';
		console_fail(q, 500, "Cannot redirect",
		    "The address of the next page is too long.");
		return;
	}
	buf_reset(&q->out);
	send_typed(q, 303, "text/html; charset=utf-8", "", 0);
}

void
console_fail(struct creq *q, int status, const char *title, const char *msg)
{
	buf_reset(&q->out);
	ch_page_begin(q, title);
	ch_raw(&q->out, "<h1>");
	ch_text(&q->out, title);
	ch_raw(&q->out, "</h1>\n<p class=\"msg bad\">");
	ch_text(&q->out, msg);
	ch_raw(&q->out, "</p>\n<p><a href=\"/admin\">Back to the overview</a></p>\n");
	ch_page_end(q);
	console_send(q, status);
}

void
console_send_css(struct creq *q)
{
	send_typed(q, 200, "text/css; charset=utf-8", console_css, strlen(console_css));
}
