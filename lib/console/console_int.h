/*
 * Private to the support console (lib/console*.c): one request, its forms
 * and session, the HTML writers every page uses, and each module's entry
 * points. Prefixes: ch_ writes console HTML (escaped), page_ is a page
 * (one GET route), form_ reads a submitted form. Pages are written into q->out (a bounded buffer) and sent once by
 * console_send, with the security headers on every answer.
 */
#ifndef TALLY_CONSOLE_INT_H
#define TALLY_CONSOLE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "base/buf.h"
#include "console/console.h"

/* The largest page: an event's raw body (up to BODY_MAX) escaped, and the rest. */
#define CONSOLE_PAGE_MAX   (8 * 1024 * 1024)
/* Fields of one form or query string. */
#define FORM_FIELDS_MAX    32
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

/* A decoded application/x-www-form-urlencoded text (a query string or a POST body). */
struct form {
	char *mem; /* the decoded names and values, NUL-separated; owned */
	const char *name[FORM_FIELDS_MAX];
	const char *value[FORM_FIELDS_MAX];
	size_t n;
	int bad; /* malformed: too many fields, a bad escape, not text, or a name twice */
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

/* --- console.c --- */

/* Send q->out as an HTML page with status, the security headers and q->headers. */
void console_send(struct creq *q, int status);
/* 303 See Other to location (a path under /admin, already escaped for a URL). */
void console_redirect(struct creq *q, const char *location);
/* A whole page saying what went wrong. */
void console_fail(struct creq *q, int status, const char *title, const char *msg);
/* The process's write connection, locked; console_rw_done releases it. NULL (logged) when it cannot be opened. */
struct store *console_rw(struct creq *q);
void console_rw_done(struct creq *q);
/* The value of a query or form field, or NULL. */
const char *form_get(const struct form *f, const char *name);

/* --- console_html.c --- */

/* Decode p[0..n) into f (release with form_release); f->bad when malformed. */
void form_parse(struct form *f, const char *p, size_t n);
void form_release(struct form *f);

/* Trusted markup, as is. */
void ch_raw(struct buf *b, const char *s);
/* Text from anywhere: & < > " ' escaped, control characters and invalid UTF-8 as U+FFFD. */
void ch_text(struct buf *b, const char *s);
void ch_textn(struct buf *b, const char *s, size_t n);
/* An integer with thin spaces between thousands. */
void ch_int(struct buf *b, int64_t v);
/* A time as "2026-11-22 08:12:45" (UTC), or an em dash for 0. */
void ch_time(struct buf *b, int64_t ms);
/* An RFC 3339 string of the user document the same way (NULL: an em dash). */
void ch_iso(struct buf *b, const char *iso);
/* s percent-encoded, for a query string value inside an attribute. */
void ch_url(struct buf *b, const char *s);
/* A state as a coloured badge. */
void ch_badge(struct buf *b, const char *state);
/* A link to the user page of user. */
void ch_user_link(struct buf *b, const char *user);
/* JSON text p[0..n) (valid) indented two spaces a level, escaped; other text escaped as is. */
void ch_body(struct buf *b, const char *p, size_t n);

/*
 * Tables: ch_table_begin's columns are split by '|', a leading '#'
 * right-aligns one (numbers); ch_table_end says none when there were no rows.
 */
void ch_table_begin(struct buf *b, const char *cols);
void ch_table_end(struct buf *b, size_t rows, const char *none);
/* Cells: text, an id in a fixed-width font, a grouped number, an id, a time, a badge. */
void ch_td(struct buf *b, const char *s);
void ch_td_mono(struct buf *b, const char *s);
void ch_td_int(struct buf *b, int64_t v);
void ch_td_id(struct buf *b, int64_t v);
void ch_td_time(struct buf *b, int64_t ms);
void ch_td_iso(struct buf *b, const char *iso);
void ch_td_badge(struct buf *b, const char *state);

/* The page around the content: head, the header with navigation (when logged in), main. */
void ch_page_begin(struct creq *q, const char *title);
void ch_page_end(struct creq *q);
/*
 * A form that POSTs action (a path under /admin) with the session's CSRF
 * token; op forms (do != NULL) also carry the action's name and a fresh
 * nonce. Close with ch_form_end.
 */
void ch_form_begin(struct creq *q, const char *action, const char *do_, const char *cls);
void ch_form_end(struct buf *b, const char *button, const char *cls);
void ch_hidden(struct buf *b, const char *name, const char *value);
void ch_hidden_int(struct buf *b, const char *name, int64_t value);
/* A required one-line reason field. */
void ch_reason(struct buf *b);

/* The stylesheet (GET /admin/style.css). */
extern const char console_css[];

/* --- console_auth.c --- */

/* The session the request's cookie names, into q (q->authed). */
void console_session(struct creq *q);
/* 1 when the form's csrf field is the session's (constant time). */
int console_csrf_ok(struct creq *q);
/* 1 when the request's Origin (if any) and Sec-Fetch-Site (if any) are this site's. */
int console_same_origin(struct creq *q);
void console_login_page(struct creq *q);
void console_login(struct creq *q);
void console_logout(struct creq *q);
/* The admin as the events' operator: the session's admin name. */
const char *console_admin(const struct creq *q);

/* --- console_pages.c --- */

/* The thread's read connection, or NULL when the 503 page was sent. */
struct store *console_reader(struct creq *q);
/* The 503 page of a read that failed. */
void console_storage_failed(struct creq *q);
/* An integer query parameter within [min, max]; def when absent; -1 when malformed. */
int64_t console_query_int(struct creq *q, const char *name, int64_t min, int64_t max, int64_t def);
/* A table of events with a replay form where one helps; show_user adds who (or what it waits for). */
void console_events_table(struct creq *q, const struct inbox_row *rows, size_t n, int show_user);

void page_overview(struct creq *q);
void page_search(struct creq *q);
void page_event(struct creq *q);
void page_attention(struct creq *q);
void page_outbox(struct creq *q);
void page_done(struct creq *q);

/* --- console_user.c --- */

void page_user(struct creq *q);

/* --- console_actions.c --- */

void console_action(struct creq *q);
/* The providers whose ids may be linked to a user, NULL-terminated. */
extern const char *const console_providers[];

/* --- console_chart.c --- */

/* The overview's chart of s as an inline SVG element. */
void console_chart(struct buf *b, const struct console_stats *s);

#endif
