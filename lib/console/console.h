/*
 * The support console (bin/tally-console, mounted under /admin by the web
 * server): server-rendered HTML pages to find a customer, see why they have
 * what they have, and mend it. Every change is one of tally's own operator
 * events (op.h, actor "operator:<admin>") applied through the same group
 * commit as the webhooks; replays and outbox retries, which are not events,
 * write an audit row of their own.
 *
 *   lib/console/console.c          routing, the session gate, answers and headers
 *   lib/console/console_auth.c     passwords, login, sessions, CSRF, throttling
 *   lib/console/console_html.c     escaping, the page frame, forms, the stylesheet
 *   lib/console/console_pages.c    overview, search, user, event, attention, outbox
 *   lib/console/console_actions.c  the forms' POSTs
 *   lib/console/console_chart.c    the overview's SVG chart
 *
 * docs/console.md describes each page and action.
 */
#ifndef TALLY_CONSOLE_H
#define TALLY_CONSOLE_H

#include <stddef.h>

#include "serve/handler.h"
#include "store/store_console.h"

/* The largest request body read: a form of short fields (a reason is at most 500 bytes). */
#define CONSOLE_BODY_MAX (16 * 1024)

/* Passwords: at least this long (a passphrase), at most this long (scrypt reads it all). */
#define CONSOLE_PW_MIN 12
#define CONSOLE_PW_MAX 1024

/* Once at start: state for console_serve. */
enum terr console_init(void **state, const struct cfg *c, char *why, size_t whysize);
void console_fini(void *state);

/* Answer one request (struct handler.serve). */
void console_serve(void *state, struct svc *s, struct http_req *r);

/*
 * Hash password for storage in out: scrypt (RFC 7914) with N = 2^15, r = 8,
 * p = 3 (32 MiB; measured about half the time of the former N = 2^17, r = 8,
 * p = 1, whose V no longer fits a cache), a 16-byte random salt and a
 * 32-byte result, written "$scrypt$ln=15,r=8,p=3$<salt>$<hash>" (base64url,
 * unpadded). TERR_INTERNAL when OpenSSL fails.
 */
enum terr console_pw_hash(const char *password, char out[ADMIN_HASH_MAX]);

/*
 * 1 when password matches stored (parameters read from it, result compared
 * in constant time), 0 when it does not or stored is malformed or asks for
 * more than the bound (128 MiB, the time of N = 2^17, r = 8, p = 1).
 */
int console_pw_verify(const char *password, const char *stored);

/* 1 when stored was made with other parameters than console_pw_hash uses now. */
int console_pw_outdated(const char *stored);

#endif
