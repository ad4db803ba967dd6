/*
 * The support console's answers (console_reply.c), each with the security
 * headers. Pages are written into q->out (a bounded buffer) and sent once by
 * console_send.
 */
#ifndef TALLY_CONSOLE_REPLY_H
#define TALLY_CONSOLE_REPLY_H

#include "console/console_req.h"

/* Send q->out as an HTML page with status, the security headers and q->headers. */
void console_send(struct creq *q, int status);
/* 303 See Other to location (a path under /admin, already escaped for a URL). */
void console_redirect(struct creq *q, const char *location);
/* A whole page saying what went wrong. */
void console_fail(struct creq *q, int status, const char *title, const char *msg);
/* The stylesheet (GET /admin/style.css), as text/css. */
void console_send_css(struct creq *q);

#endif
