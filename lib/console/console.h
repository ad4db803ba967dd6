/*
 * The support console (bin/tally-console, mounted under /admin by the web
 * server): server-rendered HTML pages to find a customer, see why they have
 * what they have, and mend it. Every change is one of tally's own operator
 * events (op.h, actor "operator:<admin>") applied through the same group
 * commit as the webhooks; replays and outbox retries, which are not events,
 * write an audit row of their own.
 *
 *   lib/console/console.c          routing and the session gate
 *   lib/console/console_user.c     the user page
 *   lib/console/console_actions.c  the forms' POSTs
 *   lib/console/console_pages.c    overview, search, event, attention, outbox
 *   lib/console/console_auth.c     login, sessions, CSRF, throttling
 *   lib/console/console_pw.c       passwords (scrypt hashes)
 *   lib/console/console_chart.c    the overview's SVG chart
 *   lib/console/console_reply.c    answers and their security headers
 *   lib/console/console_html.c     escaping, the page frame, the stylesheet
 *   lib/console/console_req.c      one request: limits, state, the write connection
 *   lib/console/console_form.c     forms (query strings and POST bodies)
 *
 * Each file above calls only files below it; each declares what it offers
 * in its own header (console_auth.h ...).
 *
 * docs/console.md describes each page and action.
 */
#ifndef TALLY_CONSOLE_H
#define TALLY_CONSOLE_H

#include <stddef.h>

#include "console/console_form.h" /* CONSOLE_BODY_MAX */
#include "console/console_pw.h"
#include "serve/handler.h"

/* Once at start: state for console_serve. */
enum terr console_init(void **state, const struct cfg *c, char *why, size_t whysize);
void console_fini(void *state);

/* Answer one request (struct handler.serve). */
void console_serve(void *state, struct svc *s, struct http_req *r);

#endif
