/*
 * The shape every webhook handler shares (STYLE.md 2; struct svc and svc_*:
 * one running service, the handler's process with its store and config): accept a request
 * (FastCGI, or one CGI request), read it within limits, let the provider's
 * intake verify and parse it into a normalized event, apply it, answer, free
 * the request's memory. A handler's main() is one call:
 *
 *	int main(int argc, char **argv) { return handler_main(&stripe_handler, argc, argv); }
 *
 * Answers: 2xx only after the event's transaction committed; 5xx for any
 * failure before that (the provider retries); 4xx for unauthenticated or
 * malformed input, which changes nothing (DESIGN.md invariant 5).
 */
#ifndef TALLY_HANDLER_H
#define TALLY_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "base/event.h"
#include "cfg/cfg.h"
#include "core/apply.h"
#include "http/http.h"

/* Why a request was refused before apply: the status and the JSON error's code and message. */
struct intake_err {
	int status;
	const char *code;
	char message[256];
};

struct svc;

struct handler {
	const char *name; /* the provider: logs, and bin/tally-<name> */
	size_t body_max;
	/*
	 * Once at start, after the configuration loaded. A missing secret is not
	 * fatal: return TERR_CONFIG with why, and every request is refused with
	 * 503 and that reason logged (invariant 6: verification never off).
	 * A handler that calls out (httpc) calls httpc_init() here: it runs
	 * before any thread starts, and handlers that never call out do not
	 * load libcurl at all.
	 */
	enum terr (*init)(void **state, const struct cfg *c, char *why, size_t whysize);
	void (*fini)(void *state);
	/* Verify r and parse it into e. 0, or an HTTP status with err filled. */
	int (*intake)(void *state, const struct cfg *c, struct http_req *r, int64_t now,
	    struct bev *e, struct intake_err *err);
	/*
	 * A service (the API, the console) answers every request itself, any
	 * method and path, instead of intake: it reads through svc_store and
	 * changes state only through svc_apply (the same group commit).
	 * The handler's body_max still bounds what http_read_body reads.
	 */
	void (*serve)(void *state, struct svc *s, struct http_req *r);
};

/* What a service's request may use. */
struct svc {
	const struct cfg *cfg;
	int64_t now;      /* when the request was taken */
	struct store *ro; /* this thread's read connection (svc_store) */
	void *priv;       /* the handler's own */
	char label[64];   /* the route, for logs and metrics; set by the service */
};

/* This thread's connection for reads, opened on first use; NULL (logged) when it cannot be. */
struct store *svc_store(struct svc *s);

/*
 * Apply e through the process's writer (group commit) or, in CGI mode, in a
 * transaction of its own; res says what became of it (res->err != TERR_OK:
 * nothing committed).
 */
void svc_apply(struct svc *s, struct bev *e, struct apply_result *res);

/*
 * Run h: `tally-<name>` serves FastCGI on fd 0 when started by a FastCGI
 * server (or systemd with StandardInput=socket), on its own unix socket
 * with --listen PATH, and one plain CGI request otherwise.
 * Returns the process exit status: 0, 1 (start failed), 2 (usage).
 */
int handler_main(const struct handler *h, int argc, char **argv);

#endif
