/*
 * The accept loop every handler shares. In FastCGI mode: worker threads
 * accept (FCGX_Accept_r), read, verify and parse in parallel and hand their
 * events to the process's one writer (writer.h: group commit); the main
 * thread waits for SIGTERM/SIGINT. In CGI mode the same serve_one runs once,
 * applying its event as a batch of one.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/tally_limits.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/apply.h"
#include "core/metrics.h"
#include "core/order.h"
#include "core/provider.h"
#include "crypto/crypto.h"
#include "serve/handler.h"
#include "serve/writer.h"
#include "store/store.h"
#include "store/store_rows.h"

/* Worker threads per process: one per request in flight between nginx and tally. */
#define THREADS_DEFAULT   32
#define THREADS_MAX       256
/* A worker's stack: cJSON parses nested values recursively (up to its own 1000 levels). */
#define WORKER_STACK      (512 * 1024)
/* A kept-alive connection idle this long is closed, freeing its thread. */
#define IDLE_CONN_SECONDS 2
/* A worker's cJSON arena: a 2 KB event needs ~20 KB of nodes; larger ones fall back to malloc. */
#define WORKER_ARENA      (64 * 1024)

struct hctx {
	const struct handler *h;
	const struct provider *p; /* a webhook's row */
	void (*fini)(void *state);
	/* A webhook's: the row's, or those its handler names (struct hook_calls). */
	enum terr (
	    *verify)(void *state, const struct cfg *c, const struct hook_req *q, const char **why);
	enum terr (*prepare)(void *state, const struct cfg *c, const struct hook_req *q,
	    const char *id, struct buf *out, char *why, size_t whysize);
	struct cfg cfg;
	void *state;
	char refuse[256];      /* non-empty: configuration incomplete, refuse everything */
	struct store *store;   /* CGI mode: the one connection */
	struct writer *writer; /* FastCGI mode: the group-commit writer */
	int listen_fd;
	volatile sig_atomic_t stopping;
	char prog[64];
};

struct worker {
	struct hctx *x;
	pthread_t thread;
	FCGX_Request req;
	struct http_req r;
	struct bev ev;
	struct json_arena arena;
	struct svc svc; /* services: this thread's read connection */
};

struct store *
svc_store(struct svc *s)
{
	struct hctx *x = s->priv;

	if (s->ro != NULL)
		return s->ro;
	if (x->store != NULL) /* CGI: the one connection */
		return s->ro = x->store;
	if (store_open(&s->ro, x->cfg.db_path, STORE_RO) != TERR_OK) {
		char db[PG_URI_MAX];
		store_db_shown(x->cfg.db_path, db, sizeof(db));
		log_msg(LOG_ERROR, "cannot open the database for reading", db);
		s->ro = NULL;
	}
	return s->ro;
}

void
svc_apply(struct svc *s, struct bev *e, struct apply_result *res)
{
	struct hctx *x = s->priv;

	if (x->writer != NULL)
		writer_apply(x->writer, e, res);
	else
		apply_batch(x->store, &x->cfg, e, 1, res, s->now);
}

/* A service's request: the service answers; the time it took is counted. */
static void
serve_service(struct hctx *x, struct svc *sv, struct http_req *r, int64_t t0)
{
	struct logline l;
	char labels[128];
	int64_t ms;

	sv->cfg = &x->cfg;
	sv->priv = x;
	sv->now = t0;
	text_copy(sv->label, sizeof(sv->label), "unrouted");
	x->h->serve(x->state, sv, r);
	ms = tm_now_ms() - t0;
	snprintf(labels, sizeof(labels), "service=\"%s\",route=\"%s\"", x->h->name, sv->label);
	metrics_observe_ms("tally_request_duration_ms", labels, ms);
	log_begin(&l,
	    r->status >= 500       ? LOG_ERROR
		: r->status >= 400 ? LOG_WARN
				   : LOG_INFO,
	    "request");
	log_str(&l, "route", sv->label);
	log_int(&l, "status", r->status);
	log_int(&l, "ms", ms);
	log_end(&l);
}

/*
 * The 200 of a webhook: what became of the stored event e (res), or, with
 * res NULL, that nothing was stored, and for a pre-checkout question (pc)
 * whether it was answered and accepted.
 */
static void
reply_ok(struct http_req *r, const struct bev *e, const struct apply_result *res,
    const struct order_precheck *pc)
{
	char storage[1024];
	struct buf b;
	struct jw w;

	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kbool(&w, "ok", 1);
	if (res != NULL) {
		jw_kstr(&w, "event_id", e->id);
		jw_kstr(&w, "state", inbox_state_str(res->state));
		jw_kbool(&w, "duplicate", res->duplicate);
		jw_kint(&w, "inbox_id", res->inbox_id);
		jw_kstr(&w, "reason", res->reason);
	} else
		jw_kbool(&w, "stored", 0);
	if (pc != NULL) {
		jw_kbool(&w, "answered", pc->answered);
		jw_kbool(&w, "accepted", pc->accepted);
	}
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
	{
		char labels[96];
		snprintf(labels, sizeof(labels), "service=\"%s\",route=\"webhook\"", x->h->name);
		metrics_observe_ms("tally_request_duration_ms", labels, tm_now_ms() - t0);
	}
}

/*
 * Why a request was not applied: the status, the JSON error's code and the
 * message of the answer and the log line. An update not stored (status 200)
 * was answered already: its message is the log line's only.
 */
struct refusal {
	int status;
	const char *code;
	char message[256];
};

static int
refuse_with(struct refusal *f, int status, const char *code, const char *message)
{
	f->status = status;
	f->code = code;
	if (message != NULL)
		snprintf(f->message, sizeof(f->message), "%s", message);
	return status;
}

/*
 * An update the row's classify says is not an event: a pre-checkout
 * question is answered (core/order.h), anything else acknowledged; nothing
 * is stored. e is named for the log line only.
 */
static int
unstored(struct hctx *x, struct http_req *r, int64_t now, const struct hook_update *u,
    struct bev *e, struct svc *sv, struct refusal *f)
{
	struct order_precheck pc;

	snprintf(e->type, sizeof(e->type), "%s", u->what);
	snprintf(e->id, sizeof(e->id), "%s", u->id);
	if (u->kind != HOOK_PRECHECK) {
		reply_ok(r, e, NULL, NULL);
		return refuse_with(f, 200, "not_a_payment", "acknowledged, not stored");
	}
	sv->priv = x;
	order_precheckout(&x->cfg, svc_store(sv), x->p->name, u, now, x->h->answer, &pc);
	reply_ok(r, e, NULL, &pc);
	return refuse_with(f, 200, "pre_checkout", pc.note);
}

/* The handler's work after an event is in the inbox (handler.h after_commit). */
static void
after_commit(struct hctx *x, struct svc *sv, const struct apply_result *res, int64_t now)
{
	if (x->h->after_commit == NULL)
		return;
	sv->cfg = &x->cfg;
	sv->priv = x;
	sv->now = now;
	x->h->after_commit(sv, res);
}

/*
 * The row's step before parse (provider.h event_id, prepare): a request
 * whose event is stored already is answered 200 duplicate from the inbox,
 * through this thread's read connection, with nothing asked of the
 * provider; else prepare writes the body to store into out. 0 when out is
 * the body to parse; else the status answered or to answer, f filled.
 */
static int
prepare(struct hctx *x, struct http_req *r, const struct hook_req *q, struct bev *e, struct svc *sv,
    struct buf *out, struct refusal *f)
{
	const struct provider *p = x->p;
	struct apply_result res;
	struct inbox_row row;
	struct store *ro;
	char id[ID_MAX];

	p->event_id(q->body, q->n, id, sizeof(id));
	sv->priv = x;
	/* Not found, or the read failed: prepare, and apply dedups as always. */
	if ((ro = svc_store(sv)) != NULL && store_inbox_find(ro, p->name, id, &row) == TERR_OK) {
		memset(&res, 0, sizeof(res));
		res.duplicate = 1;
		res.state = row.state;
		res.inbox_id = row.id;
		text_copy(res.reason, sizeof(res.reason), row.reason);
		text_copy(e->id, sizeof(e->id), id);
		text_copy(e->type, sizeof(e->type), row.type);
		reply_ok(r, e, &res, NULL);
		/* A redelivery tries again what its first delivery owes, when due. */
		after_commit(x, sv, &res, q->now);
		return refuse_with(f, 200, "duplicate", "duplicate: answered from the inbox");
	}
	if (x->prepare(x->state, &x->cfg, q, id, out, f->message, sizeof(f->message)) != TERR_OK) {
		text_copy(e->id, sizeof(e->id), id);
		return refuse_with(f, 503, "provider_unavailable", NULL);
	}
	return 0;
}

/*
 * Verify r, and parse it into e, by the provider's row. 0 when e is the
 * event to apply; else the status answered (an update not stored) or to
 * answer, f filled. A row that prepares its body leaves it in stored (e->raw
 * points into it: it must outlive e's apply).
 */
static int
intake(struct hctx *x, struct http_req *r, int64_t now, struct bev *e, struct svc *sv,
    struct buf *stored, struct refusal *f)
{
	const struct provider *p = x->p;
	const struct provider_refusal *a;
	struct hook_req q = { NULL, buf_cstr(&r->body), r->body.len, now };
	struct hook_update u;
	const char *why = NULL, *id = NULL, *body = q.body;
	char *msg = f->message;
	size_t msgsize = sizeof(f->message), n = q.n;
	int status;
	enum terr rc;

	if (p->sig_header != NULL)
		q.sig = http_header(r, p->sig_header);
	if ((rc = x->verify(x->state, &x->cfg, &q, &why)) != TERR_OK) {
		a = rc > 0 && rc < TERR__MAX && p->refuse[rc].status != 0 ? &p->refuse[rc]
									  : &p->refuse_else;
		return refuse_with(f, a->status, a->code, why != NULL ? why : err_str(rc));
	}
	if (p->id_header != NULL && ((id = http_header(r, p->id_header)) == NULL || *id == '\0')) {
		snprintf(msg, msgsize, "missing %s header", p->id_header);
		return refuse_with(f, 400, "missing_event_id", NULL);
	}
	if (p->classify != NULL) {
		if (p->classify(q.body, q.n, &u, msg, msgsize) != TERR_OK)
			return refuse_with(f, 400, p->malformed, NULL);
		if (u.kind != HOOK_EVENT)
			return unstored(x, r, now, &u, e, sv, f);
	}
	if (x->prepare != NULL) {
		if ((status = prepare(x, r, &q, e, sv, stored, f)) != 0)
			return status;
		body = buf_cstr(stored);
		n = stored->len;
	}
	rc = p->parse != NULL ? p->parse(&x->cfg, body, n, e, msg, msgsize)
			      : p->parse_id(&x->cfg, id, body, n, e, msg, msgsize);
	if (rc != TERR_OK)
		return refuse_with(f, 400, p->malformed, NULL);
	return 0;
}

/* One request: read with limits, verify and parse, apply, answer. */
static void
serve_one(struct hctx *x, struct http_req *r, struct bev *e, struct svc *sv)
{
	struct refusal f;
	struct apply_result res;
	struct buf stored;
	int64_t t0 = tm_now_ms(), now;
	int status;

	memset(&f, 0, sizeof(f));
	/* What a row's prepare step makes to store (a replay reads back BODY_MAX). */
	buf_init(&stored, BODY_MAX);
	e->id[0] = '\0';
	/* Limits before anything reads a header (lib/base/tally_limits.h). */
	if (!http_headers_fit(r, HEADER_MAX)) {
		http_error(r, 431, "header_too_large", "a request header is longer than 4 KiB");
		log_request(x, r, NULL, NULL, "header too large", t0);
		return;
	}
	if (x->h->serve != NULL && x->refuse[0] == '\0') {
		serve_service(x, sv, r, t0);
		return;
	}
	if (x->h->serve != NULL) {
		http_error(r, 503, "not_configured", "this service is not configured");
		log_request(x, r, NULL, NULL, x->refuse, t0);
		return;
	}
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
		    r->why);
		log_request(x, r, NULL, NULL, r->why, t0);
		return;
	}
	now = tm_now_ms();
	if ((status = intake(x, r, now, e, sv, &stored, &f)) != 0) {
		/* Every refusal says why, in the answer and the log line: a parser that did not is named. */
		if (f.message[0] == '\0')
			snprintf(f.message, sizeof(f.message),
			    "refused without a reason by tally-%s (a bug: please report it)",
			    x->h->name);
		/* An update not stored (or a duplicate a row's prepare step found) was answered already. */
		if (r->status == 0)
			http_error(r, status, f.code != NULL ? f.code : "refused", f.message);
		log_request(x, r, e, NULL, f.message, t0);
		goto out;
	}
	if (x->writer != NULL)
		writer_apply(x->writer, e, &res);
	else
		apply_batch(x->store, &x->cfg, e, 1, &res, now);
	if (res.err != TERR_OK) {
		/* Nothing committed: the provider will retry. */
		http_error(r, 503, "storage_unavailable", "the event could not be stored; retry");
		log_request(x, r, e, NULL, err_str(res.err), t0);
		goto out;
	}
	reply_ok(r, e, &res, NULL);
	log_request(x, r, e, &res, NULL, t0);
	after_commit(x, sv, &res, now);
out:
	buf_release(&stored);
}

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	struct hctx *x = wk->x;
	int rc, fd = -1;

	json_arena_use(&wk->arena);
	for (;;) {
		/* Linux's accept() is thread-safe and wakes one waiter: no accept mutex. */
		rc = x->stopping ? -1 : FCGX_Accept_r(&wk->req);
		if (rc < 0)
			break;
		/*
		 * A connection holds this thread while it is open: a web server that
		 * kept one open and idle would hold the thread forever. A read
		 * timeout lets go of it (libfcgi then closes it and accepts another).
		 */
		if (wk->req.ipcFd != fd) {
			struct timeval tv = { IDLE_CONN_SECONDS, 0 };
			setsockopt(wk->req.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			fd = wk->req.ipcFd;
		}
		http_req_init(&wk->r, &wk->req, x->h->body_max);
		serve_one(x, &wk->r, &wk->ev, &wk->svc);
		FCGX_Finish_r(&wk->req);
		json_arena_reset(&wk->arena);
	}
	json_arena_use(NULL);
	return NULL;
}

static int
usage(const char *prog)
{
	fprintf(stderr,
	    "usage: %s [--listen SOCKET_PATH [--processes N]] [--threads N]\n"
	    "  FastCGI on fd 0 when started by a FastCGI server, on SOCKET_PATH with --listen\n"
	    "  (N processes accepting on it), one CGI request otherwise.\n",
	    prog);
	return 2;
}

/*
 * Pre-fork: n - 1 children serve the same listening socket as the parent,
 * each with its own threads, writer and connections. Children end with the
 * parent (PR_SET_PDEATHSIG).
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

/* FastCGI: worker threads and the writer until SIGTERM or SIGINT. */
static int
serve_fastcgi(struct hctx *x, int nthreads, const sigset_t *sigs)
{
	struct worker *wk;
	pthread_attr_t attr;
	int i, started = 0, sig, rc = 1;

	if ((wk = calloc((size_t)nthreads, sizeof(*wk))) == NULL)
		return 1;
	if (writer_start(&x->writer, &x->cfg) != TERR_OK) {
		char db[PG_URI_MAX];
		store_db_shown(x->cfg.db_path, db, sizeof(db));
		log_msg(LOG_ERROR, "cannot start the writer", db);
		free(wk);
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	for (i = 0; i < nthreads; i++) {
		wk[i].x = x;
		if (FCGX_InitRequest(&wk[i].req, x->listen_fd, 0) != 0 ||
		    json_arena_init(&wk[i].arena, WORKER_ARENA) != TERR_OK ||
		    pthread_create(&wk[i].thread, &attr, worker_main, &wk[i]) != 0) {
			log_msg(LOG_ERROR, "cannot start a worker thread", NULL);
			json_arena_release(&wk[i].arena);
			break;
		}
		started++;
	}
	pthread_attr_destroy(&attr);
	if (started == nthreads) {
		struct logline l;
		char db[PG_URI_MAX];
		store_db_shown(x->cfg.db_path, db, sizeof(db));
		log_begin(&l, LOG_INFO, "started");
		log_str(&l, "mode", "fastcgi");
		log_int(&l, "threads", nthreads);
		log_str(&l, "db", db);
		log_end(&l);
		while (sigwait(sigs, &sig) != 0)
			;
		rc = 0;
	}
	/* Stop accepting; requests in flight finish and are answered. */
	x->stopping = 1;
	shutdown(x->listen_fd, SHUT_RDWR);
	for (i = 0; i < started; i++) {
		pthread_join(wk[i].thread, NULL);
		store_close(wk[i].svc.ro);
		store_close(wk[i].svc.rw);
		http_req_release(&wk[i].r);
		json_arena_release(&wk[i].arena);
		FCGX_Free(&wk[i].req, 1);
	}
	writer_stop(x->writer);
	x->writer = NULL;
	free(wk);
	log_msg(LOG_INFO, "stopped", NULL);
	return rc;
}

int
handler_main(const struct handler *h, int argc, char **argv)
{
	struct hctx *x;
	const char *listen_path = NULL, *lvl;
	char why[512];
	int64_t nproc = 1, nthreads = THREADS_DEFAULT;
	int i, rc = 1, fcgi;
	sigset_t sigs;
	enum terr err;
	enum terr (*init)(void **state, const struct cfg *c, char *why, size_t whysize);

	/* Before anything is opened: the database and its files are owner-only (store.h). */
	store_umask();
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return 1;
	x->h = h;
	crypto_init();
	/* Two malloc arenas for all threads: per-thread arenas would hold memory each. */
	mallopt(M_ARENA_MAX, 2);
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
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc &&
		    text_i64s(argv[i + 1], 1, THREADS_MAX, &nthreads) == TERR_OK)
			i++;
		else {
			rc = usage(x->prog);
			goto out_free;
		}
	}
	why[0] = '\0';
	if (cfg_load(&x->cfg, why, sizeof(why)) != TERR_OK) {
		log_msg(LOG_ERROR, "configuration invalid", why);
		goto out;
	}
	/* A webhook starts and stops as its provider's row says, a service as it says itself. */
	init = h->init;
	x->fini = h->fini;
	if (h->provider != NULL) {
		if ((x->p = provider_find(h->provider)) == NULL) {
			log_msg(LOG_ERROR, "no such provider", h->provider);
			goto out;
		}
		init = x->p->init;
		x->fini = x->p->fini;
		x->verify = x->p->verify;
		if (h->calls != NULL) {
			init = h->calls->init != NULL ? h->calls->init : init;
			x->fini = h->calls->fini != NULL ? h->calls->fini : x->fini;
			x->verify = h->calls->verify != NULL ? h->calls->verify : x->verify;
			x->prepare = h->calls->prepare;
		}
		/* Invariant 6: no webhook without a verifier; a prepare step needs its id. */
		if (init == NULL || x->verify == NULL ||
		    (x->prepare != NULL) != (x->p->event_id != NULL)) {
			log_msg(LOG_ERROR, "the provider's webhook is not whole in this executable",
			    h->provider);
			goto out;
		}
	}
	if ((err = init(&x->state, &x->cfg, why, sizeof(why))) != TERR_OK) {
		if (err != TERR_CONFIG) {
			log_msg(LOG_ERROR, "start failed", why);
			goto out;
		}
		text_copy(x->refuse, sizeof(x->refuse), why);
		log_msg(LOG_ERROR, "refusing every request until configured", why);
	}
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0) {
		log_msg(LOG_ERROR, "FCGX_Init failed", NULL);
		goto out;
	}
	if (listen_path != NULL) {
		unlink(listen_path);
		if ((x->listen_fd = FCGX_OpenSocket(listen_path, 1024)) < 0) {
			log_msg(LOG_ERROR, "cannot listen", listen_path);
			goto out;
		}
		/* DESIGN.md exposure: open to the web server's group only. */
		chmod(listen_path, 0660);
		fcgi = 1;
	} else {
		x->listen_fd = 0;
		fcgi = !FCGX_IsCGI();
	}
	if (!fcgi) {
		struct http_req r;
		struct svc sv;
		struct bev *e;
		memset(&r, 0, sizeof(r));
		if ((e = malloc(sizeof(*e))) == NULL ||
		    store_open(&x->store, x->cfg.db_path, STORE_RW) != TERR_OK) {
			free(e);
			goto out;
		}
		http_req_init(&r, NULL, h->body_max);
		memset(&sv, 0, sizeof(sv));
		serve_one(x, &r, e, &sv);
		store_close(sv.rw);
		rc = r.status >= 500 ? 1 : 0;
		http_req_release(&r);
		free(e);
		goto out;
	}
	if (listen_path != NULL)
		prefork((int)nproc);
	/* Every thread blocks these; the main thread takes them with sigwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	json_arena_install();
	rc = serve_fastcgi(x, (int)nthreads, &sigs);
out:
	reap_children();
	if (h->after_commit_release != NULL)
		h->after_commit_release();
	if (x->fini != NULL && x->state != NULL)
		x->fini(x->state);
	store_close(x->store);
	cfg_release(&x->cfg);
out_free:
	free(x);
	return rc;
}
