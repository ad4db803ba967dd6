/*
 * The shape every webhook handler shares (STYLE.md 2; struct svc and svc_*:
 * one running service, the handler's process with its store and config): accept a request
 * (FastCGI, or one CGI request), read it within limits, verify it, parse it
 * into a normalized event, apply it, answer, free the request's memory. How
 * a provider's request is verified, parsed and refused is its row of the
 * provider table (core/provider.h), so a webhook handler names its provider
 * and its main() is one call:
 *
 *	static const struct handler stripe_handler = {
 *		.name = "stripe", .provider = "stripe", .body_max = BODY_MAX,
 *	};
 *	int main(int argc, char **argv) { return handler_main(&stripe_handler, argc, argv); }
 *
 * Answers: 2xx only after the event's transaction committed; 5xx for any
 * failure before that (the provider retries); 4xx for unauthenticated or
 * malformed input, which changes nothing (DESIGN.md invariant 5). The
 * refusals, one rule for every webhook, in this order: 431 (a header past
 * HEADER_MAX), 405 (not POST), 503 not_configured
 * (the row's init found no secret), 411, 413, 400 (http_read_body), then
 * the row's answer to verify's error (refuse, refuse_else; the message is
 * verify's why), 400 missing_event_id (the row's id_header absent), for a
 * row that prepares its body (provider.h: Google Play reads the purchase a
 * push names) 200 duplicate when its event is stored already and 503
 * provider_unavailable when prepare fails, 400 the row's malformed code
 * (the body cannot be read; the parser's why), 503 storage_unavailable. A
 * 200 says {"ok":true,"event_id","state","duplicate","inbox_id","reason"},
 * or for an update the row's classify says is not stored,
 * {"ok":true,"stored":false} with, for a pre-checkout question, "answered"
 * and "accepted" (core/order.h).
 */
#ifndef TALLY_HANDLER_H
#define TALLY_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "base/event.h"
#include "cfg/cfg.h"
#include "core/apply.h"
#include "core/order.h"
#include "http/http.h"
#include "providers/hook.h"

struct svc;

struct handler {
	const char *name; /* logs, and bin/tally-<name> */
	size_t body_max;
	/* A webhook: the provider whose row (core/provider.h) verifies, parses and refuses. */
	const char *provider;
	/*
	 * A webhook whose provider asks before it takes the money (HOOK_PRECHECK):
	 * how it is answered (Telegram: telegram_answer_precheckout). Named here,
	 * not in the row, so that only the endpoint that calls out links libcurl;
	 * its main() calls httpc_init() before handler_main, before any thread.
	 */
	order_answer_fn answer;
	/*
	 * A webhook whose verify or prepare calls out (Google Play): those of
	 * its calls (providers/hook.h), named here for the same reason; each
	 * one set takes the place of the row's. Its main() calls httpc_init().
	 */
	const struct hook_calls *calls;
	/*
	 * A webhook whose events may owe the provider work once committed
	 * (Google Play's acknowledge and consume: serve/svc_tasks.h): called for
	 * each request whose event is in the inbox (committed now, or a
	 * duplicate), once its answer is written; its release at the process's
	 * end. Named here for the same reason: they call out.
	 */
	void (*after_commit)(struct svc *sv, const struct apply_result *res);
	void (*after_commit_release)(void);
	/*
	 * A service's: once at start, after the configuration loaded (a webhook
	 * runs its row's init and fini instead). A missing secret is not fatal:
	 * return TERR_CONFIG with why, and every request is refused with 503
	 * and that reason logged (invariant 6: verification never off). A
	 * service that calls out (httpc) calls httpc_init() here: it runs
	 * before any thread starts.
	 */
	enum terr (*init)(void **state, const struct cfg *c, char *why, size_t whysize);
	void (*fini)(void *state);
	/*
	 * A service (the API, the console) answers every request itself, any
	 * method and path, instead of a provider's row: it reads through svc_store and
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
	struct store *rw; /* this thread's connection for its tasks (svc_tasks.h), or NULL */
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
