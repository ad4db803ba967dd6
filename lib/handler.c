#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apply.h"
#include "handler.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "text.h"
#include "tm.h"

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

struct hctx {
	const struct handler *h;
	struct cfg cfg;
	void *state;
	char refuse[256]; /* non-empty: configuration incomplete, refuse everything */
	struct store *store;
	struct bev ev;
	char prog[64];
};

static void
reply_result(struct http_req *r, const struct bev *e, const struct apply_result *res)
{
	char storage[1024];
	struct buf b;
	struct jw w;

	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kbool(&w, "ok", 1);
	jw_kstr(&w, "event_id", e->id);
	jw_kstr(&w, "state", inbox_state_str(res->state));
	jw_kbool(&w, "duplicate", res->duplicate);
	jw_kint(&w, "inbox_id", res->inbox_id);
	jw_kstr(&w, "reason", res->reason);
	jw_end(&w);
	buf_putc(&b, '\n');
	if (b.err != TERR_OK) {
		buf_reset(&b);
		buf_puts(&b, "{\"ok\":true}\n");
	}
	http_reply_json(r, 200, &b);
}

static void
log_request(struct hctx *x, struct http_req *r, const struct bev *e, const struct apply_result *res,
    const char *err, int64_t t0)
{
	struct logline l;

	log_begin(&l,
	    r->status >= 500       ? LOG_ERROR
		: r->status >= 400 ? LOG_WARN
				   : LOG_INFO,
	    "request");
	log_str(&l, "provider", x->h->name);
	log_int(&l, "status", r->status);
	if (e != NULL && e->id[0] != '\0') {
		log_str(&l, "event_id", e->id);
		log_str(&l, "type", e->type);
	}
	if (res != NULL) {
		log_str(&l, "state", inbox_state_str(res->state));
		log_int(&l, "duplicate", res->duplicate);
		log_int(&l, "inbox_id", res->inbox_id);
		if (res->reason[0] != '\0')
			log_str(&l, "reason", res->reason);
	}
	log_str(&l, "error", err);
	log_int(&l, "ms", tm_now_ms() - t0);
	log_end(&l);
}

static void
serve_one(struct hctx *x, struct http_req *r)
{
	struct intake_err ie;
	struct apply_result res;
	int64_t t0 = tm_now_ms(), now;
	int status;

	memset(&ie, 0, sizeof(ie));
	if (strcmp(http_method(r), "POST") != 0) {
		http_error_h(r, 405, "Allow: POST\r\n", "method_not_allowed", "use POST");
		log_request(x, r, NULL, NULL, "method not allowed", t0);
		return;
	}
	if (x->refuse[0] != '\0') {
		/* Invariant 6: never accept what cannot be verified. */
		http_error(r, 503, "not_configured", "this endpoint is not configured");
		log_request(x, r, NULL, NULL, x->refuse, t0);
		return;
	}
	if ((status = http_read_body(r, x->h->body_max)) != 0) {
		http_error(r, status,
		    status == 413       ? "body_too_large"
			: status == 411 ? "length_required"
					: "bad_body",
		    status == 413       ? "request body too large"
			: status == 411 ? "Content-Length required"
					: "request body incomplete or Content-Length malformed");
		log_request(x, r, NULL, NULL, "body refused", t0);
		return;
	}
	now = tm_now_ms();
	if ((status = x->h->intake(x->state, &x->cfg, r, now, &x->ev, &ie)) != 0) {
		http_error(r, status, ie.code, ie.message);
		log_request(x, r, &x->ev, NULL, ie.message, t0);
		return;
	}
	if (apply_batch(x->store, &x->cfg, &x->ev, 1, &res, now) != TERR_OK) {
		/* Nothing committed: the provider will retry. */
		http_error(r, 503, "storage_unavailable", "the event could not be stored; retry");
		log_request(x, r, &x->ev, NULL, terr_str(res.err), t0);
		return;
	}
	reply_result(r, &x->ev, &res);
	log_request(x, r, &x->ev, &res, NULL, t0);
}

static int
usage(const char *prog)
{
	fprintf(stderr,
	    "usage: %s [--listen SOCKET_PATH [--processes N]]\n"
	    "  FastCGI on fd 0 when started by a FastCGI server, on SOCKET_PATH with "
	    "--listen\n  (N processes accepting on it), one CGI request otherwise.\n",
	    prog);
	return 2;
}

/*
 * Pre-fork: n - 1 children accept on the same listening socket as the
 * parent. Each has its own connection to the database. Children end with
 * the parent (PR_SET_PDEATHSIG). Returns 0 in every process.
 */
static pid_t children[64];
static int nchildren;

static void
prefork(int n)
{
	pid_t ppid = getpid(), pid;
	int i;

	for (i = 1; i < n && nchildren < (int)(sizeof(children) / sizeof(children[0])); i++) {
		pid = fork();
		if (pid < 0) {
			log_msg(LOG_ERROR, "fork failed", strerror(errno));
			return;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != ppid)
				_exit(0);
			nchildren = 0;
			return;
		}
		children[nchildren++] = pid;
	}
}

static void
reap_children(void)
{
	int i;

	for (i = 0; i < nchildren; i++)
		kill(children[i], SIGTERM);
	for (i = 0; i < nchildren; i++)
		waitpid(children[i], NULL, 0);
	nchildren = 0;
}

int
handler_main(const struct handler *h, int argc, char **argv)
{
	struct hctx *x;
	struct http_req r;
	FCGX_Request fr;
	const char *listen_path = NULL, *lvl;
	char why[512];
	int64_t nproc = 1;
	int i, fd = 0, rc = 1, fcgi;
	struct sigaction sa;
	enum terr err;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return 1;
	x->h = h;
	snprintf(x->prog, sizeof(x->prog), "tally-%s", h->name);
	log_init(x->prog);
	if ((lvl = getenv("TALLY_LOG_LEVEL")) != NULL && strcmp(lvl, "debug") == 0)
		log_set_level(LOG_DEBUG);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen_path = argv[++i];
		else if (strcmp(argv[i], "--processes") == 0 && i + 1 < argc &&
		    text_i64s(argv[i + 1], 1, 64, &nproc) == TERR_OK)
			i++;
		else {
			rc = usage(x->prog);
			free(x);
			return rc;
		}
	}
	memset(&r, 0, sizeof(r));
	why[0] = '\0';
	if (cfg_load(&x->cfg, why, sizeof(why)) != TERR_OK) {
		log_msg(LOG_ERROR, "configuration invalid", why);
		goto out;
	}
	if ((err = h->init(&x->state, &x->cfg, why, sizeof(why))) != TERR_OK) {
		if (err != TERR_CONFIG) {
			log_msg(LOG_ERROR, "start failed", why);
			goto out;
		}
		text_copy(x->refuse, sizeof(x->refuse), why);
		log_msg(LOG_ERROR, "refusing every request until configured", why);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0) {
		log_msg(LOG_ERROR, "FCGX_Init failed", NULL);
		goto out;
	}
	if (listen_path != NULL) {
		unlink(listen_path);
		if ((fd = FCGX_OpenSocket(listen_path, 128)) < 0) {
			log_msg(LOG_ERROR, "cannot listen", listen_path);
			goto out;
		}
		/* DESIGN.md exposure: open to the web server's group only. */
		chmod(listen_path, 0660);
		fcgi = 1;
		prefork((int)nproc);
	} else
		fcgi = !FCGX_IsCGI();
	/* After the fork: every process has its own connection. */
	if (store_open(&x->store, x->cfg.db_path, STORE_RW) != TERR_OK)
		goto out;
	{
		struct logline l;
		log_begin(&l, LOG_INFO, "started");
		log_str(&l, "mode", fcgi ? "fastcgi" : "cgi");
		log_str(&l, "db", x->cfg.db_path);
		log_end(&l);
	}
	if (!fcgi) {
		http_req_init(&r, NULL, h->body_max);
		serve_one(x, &r);
		rc = r.status >= 500 ? 1 : 0;
		goto out;
	}
	if (FCGX_InitRequest(&fr, fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		goto out;
	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		http_req_init(&r, &fr, h->body_max);
		serve_one(x, &r);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 1);
	log_msg(LOG_INFO, "stopped", NULL);
	rc = 0;
out:
	reap_children();
	http_req_release(&r);
	if (h->fini != NULL && x->state != NULL)
		h->fini(x->state);
	store_close(x->store);
	cfg_release(&x->cfg);
	free(x);
	return rc;
}
