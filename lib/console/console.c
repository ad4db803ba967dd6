/*
 * The support console's request loop: the path under /admin, the forms,
 * the session gate, and the route's page or action. Answers and their
 * security headers are console_reply.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/text.h"
#include "console/console.h"
#include "console/console_actions.h"
#include "console/console_auth.h"
#include "console/console_pages.h"
#include "console/console_reply.h"
#include "console/console_user.h"

enum terr
console_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct console *k;

	(void)why;
	(void)whysize;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return TERR_NOMEM;
	pthread_mutex_init(&k->lock, NULL);
	k->cfg = c;
	*state = k;
	return TERR_OK;
}

void
console_fini(void *state)
{
	struct console *k = state;

	if (k == NULL)
		return;
	store_close(k->rw);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static void
not_found(struct creq *q)
{
	console_fail(q, 404, "Not found", "There is no such page in the console.");
}

static const struct route {
	const char *path;
	const char *method;
	int open; /* answered without a session */
	void (*fn)(struct creq *q);
	const char *label; /* for logs and metrics */
} routes[] = {
	{ "", "GET", 0, page_overview, "overview" },
	{ "/", "GET", 0, page_overview, "overview" },
	{ "/style.css", "GET", 1, console_send_css, "style" },
	{ "/login", "GET", 1, console_login_page, "login page" },
	{ "/login", "POST", 1, console_login, "login" },
	{ "/logout", "POST", 0, console_logout, "logout" },
	{ "/search", "GET", 0, page_search, "search" },
	{ "/user", "GET", 0, page_user, "user" },
	{ "/event", "GET", 0, page_event, "event" },
	{ "/attention", "GET", 0, page_attention, "attention" },
	{ "/outbox", "GET", 0, page_outbox, "outbox" },
	{ "/done", "GET", 0, page_done, "done" },
	{ "/action", "POST", 0, console_action, "action" },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* The route of q's path and method; NULL with *known set when only the method is wrong. */
static const struct route *
route_of(const struct creq *q, const char *method, int *known)
{
	size_t i;

	*known = 0;
	for (i = 0; i < NROUTES; i++) {
		if (strcmp(routes[i].path, q->path) != 0)
			continue;
		*known = 1;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
	}
	return NULL;
}

/* Read and decode a POST's form; 0, or the answer was sent. */
static int
read_form(struct creq *q)
{
	const char *ctype = http_param(q->r, "CONTENT_TYPE");
	int status;

	if ((status = http_read_body(q->r, CONSOLE_BODY_MAX)) != 0) {
		console_fail(q, status, "Form refused",
		    status == 413 ? "The form is too large." : q->r->why);
		return 1;
	}
	if (ctype == NULL || strncmp(ctype, "application/x-www-form-urlencoded", 33) != 0 ||
	    (ctype[33] != '\0' && ctype[33] != ';')) {
		console_fail(q, 415, "Form refused", "Only HTML forms are accepted here.");
		return 1;
	}
	form_parse(&q->body, q->r->body.p != NULL ? q->r->body.p : "", q->r->body.len);
	if (q->body.bad) {
		console_fail(q, 400, "Form refused", "The form is malformed.");
		return 1;
	}
	return 0;
}

/* The request came over TLS (the web server's HTTPS, or a TLS proxy's X-Forwarded-Proto), or config says always. */
static int
over_tls(const struct creq *q)
{
	const char *https = http_param(q->r, "HTTPS");
	const char *proto = http_header(q->r, "X-Forwarded-Proto");

	return q->c->console.secure_cookie || (https != NULL && strcmp(https, "on") == 0) ||
	    (proto != NULL && strcmp(proto, "https") == 0);
}

void
console_serve(void *state, struct svc *sv, struct http_req *r)
{
	const struct route *rt;
	struct creq q;
	char full[256];
	const char *method = http_method(r), *qs;
	int known;

	memset(&q, 0, sizeof(q));
	q.k = state;
	q.sv = sv;
	q.r = r;
	q.c = sv->cfg;
	q.now = sv->now;
	buf_init(&q.out, CONSOLE_PAGE_MAX);
	q.tls = over_tls(&q);
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	http_path(r, full, sizeof(full));
	if (strncmp(full, "/admin", 6) != 0 || (full[6] != '\0' && full[6] != '/') ||
	    text_copy(q.path, sizeof(q.path), full + 6) != TERR_OK) {
		text_copy(sv->label, sizeof(sv->label), "unrouted");
		not_found(&q);
		goto out;
	}
	if ((rt = route_of(&q, method, &known)) == NULL) {
		text_copy(sv->label, sizeof(sv->label), "unrouted");
		if (known) {
			text_copy(q.headers, sizeof(q.headers), "Allow: GET, POST\r\n");
			console_fail(&q, 405, "Method not allowed",
			    "This page is not used that way.");
		} else
			not_found(&q);
		goto out;
	}
	text_copy(sv->label, sizeof(sv->label), rt->label);
	if ((qs = http_param(r, "QUERY_STRING")) != NULL)
		form_parse(&q.query, qs, strlen(qs));
	if (q.query.bad) {
		console_fail(&q, 400, "Bad address", "The address's query is malformed.");
		goto out;
	}
	if (rt->fn == console_send_css) {
		console_send_css(&q);
		goto out;
	}
	console_session(&q);
	if (q.dberr) {
		console_fail(&q, 503, "Unavailable", "The database cannot be read: try again.");
		goto out;
	}
	if (!rt->open && !q.authed) {
		/* No session, or one that ended: to the login page, and nothing is done. */
		console_redirect(&q, q.stale ? "/admin/login?ended=1" : "/admin/login");
		goto out;
	}
	if (strcmp(method, "POST") == 0) {
		if (read_form(&q) != 0)
			goto out;
		if (!console_same_origin(&q)) {
			log_msg(LOG_WARN, "console: cross-site form refused", rt->label);
			console_fail(&q, 403, "Refused",
			    "This form did not come from the console.");
			goto out;
		}
		/* Every form of a session carries its CSRF token (login's has none: no session yet). */
		if (!rt->open && !console_csrf_ok(&q)) {
			log_msg(LOG_WARN, "console: form without the session's CSRF token refused",
			    rt->label);
			console_fail(&q, 403, "Refused",
			    "This form has expired or did not come from the console: reload the "
			    "page "
			    "and try again. Nothing was changed.");
			goto out;
		}
	}
	rt->fn(&q);
out:
	if (r->status == 0)
		console_fail(&q, 500, "Internal error", "The page could not be made.");
	form_release(&q.query);
	form_release(&q.body);
	buf_release(&q.out);
}
