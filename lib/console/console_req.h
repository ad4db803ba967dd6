/*
 * Private to the support console (lib/console/console*.c): its limits, the
 * process's state and one request (console_req.c: the write connection and
 * who is logged in). Below every other file of the console: the HTML
 * writers, the answers, the pages and the actions all take a struct creq.
 */
#ifndef TALLY_CONSOLE_REQ_H
#define TALLY_CONSOLE_REQ_H

#include <pthread.h>
#include <stdint.h>

#include "base/buf.h"
#include "console/console_form.h"
#include "serve/handler.h"
#include "store/store_console.h"

/* The largest page: an event's raw body (up to BODY_MAX) escaped, and the rest. */
#define CONSOLE_PAGE_MAX   (8 * 1024 * 1024)
/* Rows of a list page (events, attention, outbox, search hits). */
#define CONSOLE_LIST_MAX   50
/* The cookie: the session token, 32 random bytes in base64url (43 characters). */
#define COOKIE_NAME        "tally_console"
#define TOKEN_B64_LEN      43
/* A form's nonce (the event id "console:<nonce>"): 16 random bytes in hex. */
#define NONCE_HEX_LEN      32
/* Reasons typed in a form, bytes. */
#define CONSOLE_REASON_MAX 500

/*
 * Login attempts, counted by client address and by the name tried
 * ("name:<x>" whether or not such an admin exists, so that being slowed down
 * tells nothing of which names exist; "key:<id>" for an API key), BEFORE the
 * credential is checked, in the one write transaction that decides
 * (console_auth.c count_attempt): however many attempts are in flight at
 * once, at most LOGIN_FREE_TRIES are checked. The first LOGIN_FREE_TRIES
 * attempts are free; from then on each attempt waits LOGIN_DELAY_BASE_MS *
 * 2^(attempts - LOGIN_FREE_TRIES) after the last one, at most
 * LOGIN_DELAY_MAX_MS; an attempt refused for waiting is not counted. A count
 * whose last attempt is older than LOGIN_WINDOW_MS starts again (and is
 * purged); a success clears it.
 */
#define LOGIN_FREE_TRIES    5
#define LOGIN_DELAY_BASE_MS (30LL * 1000)
#define LOGIN_DELAY_MAX_MS  (3600LL * 1000)
#define LOGIN_WINDOW_MS     (24LL * 3600 * 1000)

/*
 * Password checks at once on one host (one database), whatever runs them:
 * threads of a FastCGI process or CGI processes of their own (store.h
 * store_slot_take, kind "login"). Each check takes at most 128 MiB (the
 * bound on a stored hash's parameters, console_auth.c; 32 MiB for hashes of
 * this version and for unknown names), so logins take at most LOGIN_SLOTS
 * times that. A login waits at most LOGIN_SLOT_WAIT_MS for a slot (a check
 * takes a fraction of a second: room for several queued ones, and the
 * LOGIN_FREE_TRIES of a burst fit in it), then answers 503 with
 * Retry-After: LOGIN_SLOT_RETRY_S; that attempt stays counted.
 */
#define LOGIN_SLOTS        2
#define LOGIN_SLOT_WAIT_MS 5000
#define LOGIN_SLOT_RETRY_S 5

/* The process's state: its own write connection for what is not an event. */
struct console {
	pthread_mutex_t lock; /* rw, one user at a time */
	struct store *rw;     /* opened on first use */
	const struct cfg *cfg;
};

/* One request. */
struct creq {
	struct console *k;
	struct svc *sv;
	struct http_req *r;
	const struct cfg *c;
	int64_t now;
	char path[128]; /* after /admin: "", "/user", ... */
	struct form query;
	struct form body;
	int authed; /* a live session came with the request */
	int stale;  /* a session cookie came, but its session has ended */
	int dberr;  /* the session could not be read */
	struct session_row sess;
	int tls; /* the cookie is marked Secure */
	struct buf out;
	char headers[512]; /* extra headers of the answer: Location, Set-Cookie */
};

/* The process's write connection, locked; console_rw_done releases it. NULL (logged) when it cannot be opened. */
struct store *console_rw(struct creq *q);
void console_rw_done(struct creq *q);
/* The admin as the events' operator: the session's admin name. */
const char *console_admin(const struct creq *q);

#endif
