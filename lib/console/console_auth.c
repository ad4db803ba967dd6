/*
 * Who may use the console. An admin logs in with a name and the password
 * set by `tally admin create|passwd` (kept as a scrypt hash, console_pw.c), or with an API
 * key of admin scope (`tally keys create --scopes admin`, lib/api/auth.c). A
 * login opens a session: a cookie of 32 random bytes, of which only the
 * SHA-256 is stored, HttpOnly, SameSite=Strict, Path=/admin, Secure when the
 * request came over TLS (or console.secure_cookie), ending after
 * console.session_ttl (8 h) whatever happens; a new password ends the
 * admin's sessions, a revoked key its own. Each session has a CSRF token that
 * every form carries and every POST must return (compared in constant time).
 * Login attempts are counted by the name (or key) tried and by client
 * address before the credential is checked, and slowed down (console_req.h
 * LOGIN_*); password checks at once are bounded on the host (LOGIN_SLOTS).
 * Neither a password, a key nor a cookie is ever logged.
 */
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "base/log.h"
#include "base/text.h"
#include "console/console_auth.h"
#include "console/console_html.h"
#include "console/console_pw.h"
#include "console/console_reply.h"

/*
 * Checked when the name is unknown, so that a wrong name costs what a wrong
 * password does: the parameters of new hashes (an admin whose hash is older
 * costs more until the login that rehashes it).
 */
static const char dummy_hash[] = "$scrypt$ln=15,r=8,p=3$AAAAAAAAAAAAAAAAAAAAAA$"
				 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/* --- sessions --- */

/* The value of the session cookie in a Cookie header (RFC 6265 5.4), or NULL. */
static const char *
cookie_token(const char *cookie, char out[TOKEN_B64_LEN + 1])
{
	const char *p = cookie, *v, *end;
	size_t nlen = strlen(COOKIE_NAME), i;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (strncmp(p, COOKIE_NAME, nlen) == 0 && p[nlen] == '=') {
			v = p + nlen + 1;
			if ((end != NULL ? (size_t)(end - v) : strlen(v)) != TOKEN_B64_LEN)
				return NULL;
			for (i = 0; i < TOKEN_B64_LEN; i++) {
				char c = v[i];
				if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
					(c >= '0' && c <= '9') || c == '-' || c == '_'))
					return NULL;
			}
			memcpy(out, v, TOKEN_B64_LEN);
			out[TOKEN_B64_LEN] = '\0';
			return out;
		}
		p = end;
	}
	return NULL;
}

/* A session of an API key lasts while the key is live and of admin scope. */
static int
key_still_admin(struct store *s, const char *admin)
{
	struct key_row k;
	unsigned scopes;

	if (strncmp(admin, "key:", 4) != 0)
		return 1;
	if (store_key_get(s, admin + 4, &k) != TERR_OK || k.revoked_at != 0 ||
	    auth_scopes_parse(k.scopes, &scopes) != TERR_OK)
		return 0;
	return (scopes & AUTH_ADMIN) != 0;
}

void
console_session(struct creq *q)
{
	const char *cookie = http_header(q->r, "Cookie");
	char token[TOKEN_B64_LEN + 1];
	unsigned char h[SHA256_LEN];
	struct store *s;
	enum terr rc;

	if (cookie == NULL || cookie_token(cookie, token) == NULL)
		return;
	q->stale = 1;
	crypto_sha256(token, TOKEN_B64_LEN, h);
	crypto_wipe(token, sizeof(token));
	if ((s = svc_store(q->sv)) == NULL) {
		q->dberr = 1;
		return;
	}
	if ((rc = store_session_get(s, h, &q->sess)) != TERR_OK) {
		q->dberr = rc != TERR_NOTFOUND;
		return;
	}
	if (q->sess.expires_at <= q->now || !key_still_admin(s, q->sess.admin))
		return;
	q->authed = 1;
	q->stale = 0;
}

int
console_csrf_ok(struct creq *q)
{
	const char *v = form_get(&q->body, "csrf");
	size_t n = strlen(q->sess.csrf);

	return q->authed && v != NULL && n > 0 && strlen(v) == n &&
	    crypto_ct_eq(v, q->sess.csrf, n);
}

int
console_same_origin(struct creq *q)
{
	const char *origin = http_header(q->r, "Origin"), *host = http_header(q->r, "Host");
	const char *site = http_header(q->r, "Sec-Fetch-Site");
	const char *rest;

	/* Fetch metadata, where the browser sends it: only the console's own pages (or a typed URL). */
	if (site != NULL && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return 0;
	if (origin == NULL)
		return 1; /* not a browser's cross-site form: those carry Origin (RFC 6454 7) */
	if (host == NULL)
		return 0;
	if (strncmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else if (strncmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else
		return 0;
	return strcmp(rest, host) == 0;
}

/* --- login and logout --- */

static void
login_form(struct creq *q, int status, const char *msg, const char *name)
{
	struct buf *b = &q->out;

	buf_reset(b);
	ch_page_begin(q, "Log in");
	ch_raw(b, "<section class=\"login\">\n<h1>tally console</h1>\n");
	if (msg != NULL) {
		ch_raw(b, status >= 400 ? "<p class=\"msg bad\">" : "<p class=\"msg ok\">");
		ch_text(b, msg);
		ch_raw(b, "</p>\n");
	}
	ch_raw(b,
	    "<form method=\"post\" action=\"/admin/login\" class=\"box\">\n"
	    "<label>Admin name <input name=\"name\" autocomplete=\"username\" "
	    "maxlength=\"63\" value=\"");
	ch_text(b, name != NULL ? name : "");
	ch_raw(b,
	    "\" autofocus></label>\n"
	    "<label>Password or admin API key <input name=\"secret\" type=\"password\" "
	    "autocomplete=\"current-password\" required></label>\n"
	    "<button type=\"submit\">Log in</button>\n</form>\n"
	    "<p class=\"muted\">An admin is made on the server with <code>tally admin create "
	    "NAME</code>; an API key of admin scope (leave the name empty) works too.</p>\n"
	    "</section>\n");
	ch_page_end(q);
	console_send(q, status);
}

void
console_login_page(struct creq *q)
{
	if (q->authed) {
		console_redirect(q, "/admin");
		return;
	}
	if (form_get(&q->query, "ended") != NULL)
		login_form(q, 200, "Your session has ended: log in again.", NULL);
	else if (form_get(&q->query, "out") != NULL)
		login_form(q, 200, "You are logged out.", NULL);
	else
		login_form(q, 200, NULL, NULL);
}

/* How long who must still wait before its next attempt (ms; 0: it may try now). */
static int64_t
wait_ms(struct store *s, const char *who, int64_t now, enum terr *rc)
{
	int64_t count, last, delay;

	if ((*rc = store_login_failure_get(s, who, &count, &last)) != TERR_OK)
		return 0;
	if (count < LOGIN_FREE_TRIES || last < now - LOGIN_WINDOW_MS)
		return 0;
	delay = count - LOGIN_FREE_TRIES >= 7 ? LOGIN_DELAY_MAX_MS
					      : LOGIN_DELAY_BASE_MS << (count - LOGIN_FREE_TRIES);
	if (delay > LOGIN_DELAY_MAX_MS)
		delay = LOGIN_DELAY_MAX_MS;
	return last + delay > now ? last + delay - now : 0;
}

/* The longer wait of the address and of the name (or key) tried (ms; 0: both may try now). */
static int64_t
wait_both(struct store *s, const char *addr, const char *who, int64_t now, enum terr *rc)
{
	int64_t a, b;

	a = wait_ms(s, addr, now, rc);
	if (*rc != TERR_OK)
		return 0;
	b = wait_ms(s, who, now, rc);
	return b > a ? b : a;
}

/*
 * Count this attempt against addr and who BEFORE its credential is checked,
 * or refuse it. Reading both counts, deciding and adding one to both are one
 * write transaction (store_begin: the writer lock file of every process,
 * then BEGIN IMMEDIATE), so of attempts in flight at once each sees those
 * counted before it, and no more than LOGIN_FREE_TRIES reach the check
 * however many arrive together; reading first and counting after the check
 * let 36 of 40 concurrent guesses through. Returns the wait that refuses it
 * (ms; nothing written), or 0 when it is counted and may be checked. *rc:
 * TERR_OK, or the storage error (nothing counted, nothing checked).
 */
static int64_t
count_attempt(struct creq *q, const char *addr, const char *who, enum terr *rc)
{
	int64_t since = q->now - LOGIN_WINDOW_MS, wait = 0;
	struct store *s;

	if ((s = console_rw(q)) == NULL) {
		*rc = TERR_DB;
		return 0;
	}
	if ((*rc = store_begin(s)) != TERR_OK)
		goto out;
	wait = wait_both(s, addr, who, q->now, rc);
	if (*rc != TERR_OK || wait > 0)
		goto fail;
	if ((*rc = store_login_failure_add(s, addr, q->now, since)) != TERR_OK ||
	    (*rc = store_login_failure_add(s, who, q->now, since)) != TERR_OK ||
	    (*rc = store_login_failures_purge(s, since)) != TERR_OK)
		goto fail;
	if ((*rc = store_commit(s)) == TERR_OK)
		goto out;
fail:
	store_rollback(s);
out:
	console_rw_done(q);
	return wait;
}

/* What a credential turned out to be. */
struct cred {
	char admin[SESSION_ADMIN_MAX]; /* who logs in: an admin's name, or "key:<id>" */
	int rehash; /* the password's hash is outdated: new_hash replaces old_hash */
	char old_hash[ADMIN_HASH_MAX];
	char new_hash[ADMIN_HASH_MAX];
};

/*
 * A login that succeeded, in one transaction of the write connection: its
 * counts cleared, its session stored, and an outdated hash replaced by the
 * same password with today's parameters (so that every admin soon costs
 * what console_pw_hash costs, not what older hashes asked for).
 */
static enum terr
record_login(struct creq *q, const char *addr, const char *who, const struct session_row *sess,
    const struct cred *c)
{
	struct store *s;
	enum terr rc;

	if ((s = console_rw(q)) == NULL)
		return TERR_DB;
	if ((rc = store_begin(s)) != TERR_OK)
		goto out;
	if ((rc = store_login_failure_clear(s, addr)) != TERR_OK ||
	    (rc = store_login_failure_clear(s, who)) != TERR_OK ||
	    (rc = store_sessions_purge(s, q->now)) != TERR_OK ||
	    (rc = store_session_insert(s, sess)) != TERR_OK ||
	    (c->rehash &&
		(rc = store_admin_rehash(s, c->admin, c->old_hash, c->new_hash)) != TERR_OK))
		goto fail;
	if ((rc = store_commit(s)) == TERR_OK)
		goto out;
fail:
	store_rollback(s);
out:
	console_rw_done(q);
	return rc;
}

/* Check the credential: 1 with c->admin set when it is an admin's, 0 when not. */
static int
check_credential(struct store *s, const char *name, const char *secret, struct cred *c)
{
	struct admin_row a;
	struct key_row k;
	struct buf bearer;
	const char *why = NULL;
	unsigned scopes = 0;
	enum terr rc;
	int ok = 0;

	if (strncmp(secret, "tk_", 3) == 0) {
		buf_init(&bearer, CONSOLE_PW_MAX + 16);
		buf_printf(&bearer, "Bearer %s", secret);
		rc = auth_key_check(s, buf_cstr(&bearer), &k, &scopes, &why);
		crypto_wipe(bearer.p, bearer.len);
		buf_release(&bearer);
		if (rc == TERR_OK && (scopes & AUTH_ADMIN)) {
			snprintf(c->admin, sizeof(c->admin), "key:%s", k.id);
			ok = 1;
		}
		return ok;
	}
	if (store_admin_get(s, name, &a) != TERR_OK) {
		console_pw_verify(secret, dummy_hash);
		return 0;
	}
	if (console_pw_verify(secret, a.password_hash)) {
		text_copy(c->admin, sizeof(c->admin), a.name);
		ok = 1;
		/* Hashed again now, while the password is at hand (and in the same slot). */
		if (console_pw_outdated(a.password_hash) &&
		    console_pw_hash(secret, c->new_hash) == TERR_OK) {
			text_copy(c->old_hash, sizeof(c->old_hash), a.password_hash);
			c->rehash = 1;
		}
	}
	return ok;
}

static void
log_login(const char *msg, const char *admin, const char *addr, enum log_level lvl)
{
	struct logline l;

	log_begin(&l, lvl, msg);
	log_str(&l, "admin", admin);
	log_str(&l, "client", addr);
	log_end(&l);
}

void
console_login(struct creq *q)
{
	const char *name = form_get(&q->body, "name"), *secret = form_get(&q->body, "secret");
	const char *remote = http_param(q->r, "REMOTE_ADDR");
	char addr[80], who[SESSION_ADMIN_MAX + 8] = "";
	char token[TOKEN_B64_LEN + 8] = "";
	unsigned char raw[32] = { 0 };
	struct store_slot slot = { -1 };
	struct session_row sess;
	struct cred cred;
	struct store *s = NULL;
	int64_t wait;
	enum terr rc;
	int ok;

	memset(&cred, 0, sizeof(cred));
	if (name == NULL)
		name = "";
	snprintf(addr, sizeof(addr), "addr:%.64s", remote != NULL ? remote : "unknown");
	if (secret == NULL || secret[0] == '\0' || strlen(secret) > CONSOLE_PW_MAX ||
	    (strncmp(secret, "tk_", 3) != 0 && !text_id_valid(name, CFG_NAME_MAX - 1))) {
		login_form(q, 400, "Give an admin name and its password, or an admin API key.",
		    NULL);
		goto out;
	}
	/*
	 * Who the attempts count against besides the address: the name tried,
	 * whether or not such an admin exists (were only real names counted, the
	 * sixth try of a name from a fresh address would say whether it exists;
	 * LOGIN_WINDOW_MS's purge bounds the rows), or the key's id.
	 */
	if (strncmp(secret, "tk_", 3) == 0)
		snprintf(who, sizeof(who), "key:%.16s", secret + 3);
	else
		snprintf(who, sizeof(who), "name:%s", name);
	if ((s = svc_store(q->sv)) == NULL) {
		console_fail(q, 503, "Unavailable", "The database cannot be read: try again.");
		goto out;
	}
	/*
	 * Refused already on the read connection: counts only grow until a
	 * success, so this refusal stands, and a flood of refused guesses never
	 * takes the writers' lock. Otherwise the write transaction decides.
	 */
	wait = wait_both(s, addr, who, q->now, &rc);
	if (rc == TERR_OK && wait == 0)
		wait = count_attempt(q, addr, who, &rc);
	if (rc != TERR_OK) {
		console_fail(q, 503, "Unavailable", "The database cannot be read: try again.");
		goto out;
	}
	if (wait > 0) {
		/* Not even checked: a guess while slowed down tells nothing. */
		char msg[96];
		long long secs = (long long)((wait + 999) / 1000);
		snprintf(q->headers, sizeof(q->headers), "Retry-After: %lld\r\n", secs);
		snprintf(msg, sizeof(msg), "Too many failed logins: try again in %lld seconds.",
		    secs);
		log_login("console: login refused: too many failures", who, addr, LOG_WARN);
		login_form(q, 429, msg, name);
		goto out;
	}
	/* A password is checked in one of the host's LOGIN_SLOTS slots (scrypt's memory). */
	if (strncmp(secret, "tk_", 3) != 0 &&
	    (rc = store_slot_take(s, "login", LOGIN_SLOTS, LOGIN_SLOT_WAIT_MS, &slot)) != TERR_OK) {
		snprintf(q->headers, sizeof(q->headers), "Retry-After: %d\r\n", LOGIN_SLOT_RETRY_S);
		log_login(rc == TERR_BUSY ? "console: login refused: every password check slot busy"
					  : "console: login refused: no password check slot",
		    who, addr, LOG_WARN);
		login_form(q, 503, "Too many logins at once: try again in a few seconds.", name);
		goto out;
	}
	ok = check_credential(s, name, secret, &cred);
	store_slot_give(s, &slot);
	if (!ok) {
		log_login("console: login refused", who, addr, LOG_WARN);
		login_form(q, 401, "Wrong name or password (or not an admin key).", name);
		goto out;
	}
	memset(&sess, 0, sizeof(sess));
	if (crypto_random_bytes(raw, sizeof(raw)) != TERR_OK) {
		console_fail(q, 503, "Unavailable", "No randomness: try again.");
		goto out;
	}
	text_b64enc(raw, sizeof(raw), 1, token, sizeof(token));
	crypto_sha256(token, strlen(token), sess.token_hash);
	if (crypto_random_bytes(raw, sizeof(raw)) != TERR_OK) {
		console_fail(q, 503, "Unavailable", "No randomness: try again.");
		goto out;
	}
	text_b64enc(raw, sizeof(raw), 1, sess.csrf, sizeof(sess.csrf));
	text_copy(sess.admin, sizeof(sess.admin), cred.admin);
	sess.created_at = q->now;
	sess.expires_at = q->now + q->c->console.session_ttl;
	if (record_login(q, addr, who, &sess, &cred) != TERR_OK) {
		console_fail(q, 503, "Unavailable", "The session could not be stored: try again.");
		goto out;
	}
	snprintf(q->headers, sizeof(q->headers),
	    "Set-Cookie: %s=%s; Path=/admin; Max-Age=%lld; HttpOnly; SameSite=Strict%s\r\n",
	    COOKIE_NAME, token, (long long)(q->c->console.session_ttl / 1000),
	    q->tls ? "; Secure" : "");
	log_login("console: login", cred.admin, addr, LOG_INFO);
	console_redirect(q, "/admin");
	crypto_wipe(q->headers, sizeof(q->headers));
out:
	store_slot_give(s, &slot);
	crypto_wipe(&cred, sizeof(cred));
	crypto_wipe(token, sizeof(token));
	crypto_wipe(raw, sizeof(raw));
	/* The password was in the body and its decoded copy. */
	if (q->r->body.p != NULL)
		crypto_wipe(q->r->body.p, q->r->body.len);
	if (q->body.mem != NULL && q->r->body.len > 0)
		crypto_wipe(q->body.mem, q->r->body.len);
}

void
console_logout(struct creq *q)
{
	struct store *s;
	enum terr rc = TERR_DB;

	if ((s = console_rw(q)) != NULL) {
		if ((rc = store_begin(s)) == TERR_OK &&
		    (rc = store_session_delete(s, q->sess.token_hash)) == TERR_OK)
			rc = store_commit(s);
		if (rc != TERR_OK)
			store_rollback(s);
		console_rw_done(q);
	}
	if (rc != TERR_OK) {
		console_fail(q, 503, "Unavailable", "The session could not be ended: try again.");
		return;
	}
	snprintf(q->headers, sizeof(q->headers),
	    "Set-Cookie: %s=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict%s\r\n", COOKIE_NAME,
	    q->tls ? "; Secure" : "");
	log_login("console: logout", q->sess.admin, "", LOG_INFO);
	console_redirect(q, "/admin/login?out=1");
}
