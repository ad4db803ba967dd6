/*
 * Storage of the support console: admins, sessions, failed logins, and the
 * reads of its pages (store_console.h). The SQL is in store_sql.c's console
 * section.
 *
 * Cost on a large database (measured on 1 M subscriptions, 5 M events, 3 M
 * ledger entries): search, lists and the 24 h figures go through primary
 * keys and indexes (under 1 ms each); the chart's events per day are id
 * differences found by binary search on the rowid (91 searches of ~23 point
 * reads); the two aggregates over subscriptions scan that table once each
 * (~0.6 s per million subscriptions) unless an index on
 * subscriptions(state, updated_at, created_at, provider, live) exists.
 */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "store/store_console.h"
#include "store/store_credits_int.h"
#include "store/store_int.h"
#include "store/store_rows.h"
#include "store/store_rows_int.h"

#define DAY_MS          ((int64_t)86400 * 1000)
/* Provider (and kind) pairs walked by one search: far more than tally has. */
#define SEARCH_KEYS_MAX 256

/* --- admins --- */

static void
read_admin(const struct store_row *row, void *out)
{
	struct admin_row *r = out;

	store_col_text(row, 0, r->name, sizeof(r->name));
	store_col_text(row, 1, r->password_hash, sizeof(r->password_hash));
	r->created_at = store_col_i64(row, 2);
	r->updated_at = store_col_i64(row, 3);
}

enum terr
store_admin_get(struct store *s, const char *name, struct admin_row *out)
{
	return store_get(s, STMT_ADMIN_GET, read_admin, out, "admin get",
	    STORE_PARAMS(SP_TEXT(name)));
}

enum terr
store_admin_put(struct store *s, const char *name, const char *hash, int64_t now, int create)
{
	enum terr rc;

	if (create)
		return store_run_insert(s, STMT_ADMIN_INSERT, NULL, "admin put",
		    STORE_PARAMS(SP_TEXT(name), SP_TEXT(hash), SP_I64(now)));
	if ((rc = store_run_changed(s, STMT_ADMIN_SET_PASSWORD, TERR_NOTFOUND, "admin put",
		 STORE_PARAMS(SP_TEXT(name), SP_TEXT(hash), SP_I64(now)))) != TERR_OK)
		return rc;
	/* A new password ends the sessions the old one opened. */
	return store_run(s, STMT_SESSIONS_END_ADMIN, "sessions end", STORE_PARAMS(SP_TEXT(name)));
}

enum terr
store_admin_rehash(struct store *s, const char *name, const char *old, const char *hash)
{
	return store_run(s, STMT_ADMIN_REHASH, "admin rehash",
	    STORE_PARAMS(SP_TEXT(name), SP_TEXT(old), SP_TEXT(hash)));
}

/* --- sessions --- */

enum terr
store_session_insert(struct store *s, const struct session_row *r)
{
	return store_run_insert(s, STMT_SESSION_INSERT, NULL, "session insert",
	    STORE_PARAMS(SP_BLOB(r->token_hash, SHA256_LEN), SP_TEXT(r->admin), SP_TEXT(r->csrf),
		SP_I64(r->created_at), SP_I64(r->expires_at)));
}

static void
read_session(const struct store_row *row, void *out)
{
	struct session_row *r = out;

	store_col_text(row, 0, r->admin, sizeof(r->admin));
	store_col_text(row, 1, r->csrf, sizeof(r->csrf));
	r->created_at = store_col_i64(row, 2);
	r->expires_at = store_col_i64(row, 3);
}

enum terr
store_session_get(struct store *s, const unsigned char hash[SHA256_LEN], struct session_row *out)
{
	memcpy(out->token_hash, hash, SHA256_LEN);
	return store_get(s, STMT_SESSION_GET, read_session, out, "session get",
	    STORE_PARAMS(SP_BLOB(hash, SHA256_LEN)));
}

enum terr
store_session_delete(struct store *s, const unsigned char hash[SHA256_LEN])
{
	return store_run(s, STMT_SESSION_DELETE, "session delete",
	    STORE_PARAMS(SP_BLOB(hash, SHA256_LEN)));
}

enum terr
store_sessions_purge(struct store *s, int64_t now)
{
	return store_run(s, STMT_SESSIONS_PURGE, "sessions purge", STORE_PARAMS(SP_I64(now)));
}

/* --- failed logins --- */

enum terr
store_login_failure_get(struct store *s, const char *who, int64_t *count, int64_t *last_at)
{
	return store_ints(s, STMT_LOGIN_FAILURE_GET, count, last_at, "login failure",
	    STORE_PARAMS(SP_TEXT(who)));
}

enum terr
store_login_failure_add(struct store *s, const char *who, int64_t now, int64_t since)
{
	return store_run(s, STMT_LOGIN_FAILURE_ADD, "login failure add",
	    STORE_PARAMS(SP_TEXT(who), SP_I64(now), SP_I64(since)));
}

enum terr
store_login_failure_clear(struct store *s, const char *who)
{
	return store_run(s, STMT_LOGIN_FAILURE_CLEAR, "login failure clear",
	    STORE_PARAMS(SP_TEXT(who)));
}

enum terr
store_login_failures_purge(struct store *s, int64_t before)
{
	return store_run(s, STMT_LOGIN_FAILURES_PURGE, "login failures purge",
	    STORE_PARAMS(SP_I64(before)));
}

/* --- search --- */

/*
 * The (provider[, kind]) after (a, b) in the index statement i walks, into
 * a and b: 1 when there is one, 0 at the end, -1 on error. A loose index
 * scan: each step is one index search, however many rows a key has.
 */
/* A (provider[, kind]) key walked by next_key. */
struct key_walk {
	char *a, *b;
	size_t asize, bsize;
};

static void
read_key_walk(const struct store_row *row, void *out)
{
	struct key_walk *w = out;

	store_col_text(row, 0, w->a, w->asize);
	if (w->b != NULL)
		store_col_text(row, 1, w->b, w->bsize);
}

static int
next_key(struct store *s, enum stmt i, char *a, size_t asize, char *b, size_t bsize)
{
	const struct store_param p[] = { SP_TEXT(a), SP_TEXT(b) };
	struct key_walk w = { a, b, asize, bsize };
	enum terr rc;

	/* ?2 only where the statement has it (b not NULL). */
	rc = store_get(s, i, read_key_walk, &w, "console search", p, b != NULL ? 2 : 1);
	return rc == TERR_OK ? 1 : rc == TERR_NOTFOUND ? 0 : -1;
}

static struct console_hit *
hit(struct console_hit *out, size_t max, size_t *n, enum console_hit_kind kind,
    const char *provider)
{
	struct console_hit *h;

	if (*n == max)
		return NULL;
	h = &out[(*n)++];
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	text_copy(h->provider, sizeof(h->provider), provider);
	return h;
}

/* The tables searched by provider only: the walk, then the lookup of q under each provider. */
static enum terr
search_by_provider(struct store *s, const char *q, enum console_hit_kind kind,
    struct console_hit *out, size_t max, size_t *n)
{
	static const enum stmt walk[] = { [HIT_SUBSCRIPTION] = STMT_CONSOLE_NEXT_SUB_PROVIDER,
		[HIT_PAYMENT] = STMT_CONSOLE_NEXT_PAY_PROVIDER,
		[HIT_EVENT] = STMT_CONSOLE_NEXT_INBOX_PROVIDER };
	char provider[PROVIDER_MAX] = "";
	struct console_hit *h;
	union {
		struct sub_row sub;
		struct pay_row pay;
		struct inbox_row in;
	} row;
	const char *user;
	int64_t id;
	enum terr rc;
	int k, r;

	for (k = 0; k < SEARCH_KEYS_MAX; k++) {
		if ((r = next_key(s, walk[kind], provider, sizeof(provider), NULL, 0)) <= 0)
			return r < 0 ? TERR_DB : TERR_OK;
		if (kind == HIT_SUBSCRIPTION) {
			rc = store_sub_find(s, provider, q, &row.sub);
			user = row.sub.user;
			id = row.sub.id;
		} else if (kind == HIT_PAYMENT) {
			rc = store_pay_find_key(s, provider, q, &row.pay);
			user = row.pay.user;
			id = row.pay.id;
		} else {
			rc = store_inbox_find(s, provider, q, &row.in);
			user = row.in.user;
			id = row.in.id;
		}
		if (rc == TERR_OK && (h = hit(out, max, n, kind, provider)) != NULL) {
			text_copy(h->user, sizeof(h->user), user);
			h->id = id;
		} else if (rc != TERR_OK && rc != TERR_NOTFOUND)
			return rc;
	}
	return TERR_OK;
}

/* A payment found by a range of its keys: its id and user. */
struct key_hit {
	int64_t id;
	char user[USER_ID_MAX + 1];
};

static void
read_key_hit(const struct store_row *row, void *out)
{
	struct key_hit *h = out;

	h->id = store_col_i64(row, 0);
	store_col_text(row, 1, h->user, sizeof(h->user));
}

/* The length of q's order id without a "..N" suffix (digits only), or 0 when it has none. */
static size_t
order_base_len(const char *q)
{
	const char *dots = strstr(q, ".."), *p;

	if (dots == NULL || dots == q || dots[2] == '\0')
		return 0;
	for (p = dots + 2; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return (size_t)(dots - q);
}

/*
 * Google Play's order ids (PROVIDERS.md 7.5): a subscription's first order
 * "GPA.1234-5678-9012-34567", its renewals the same id and "..N". An order
 * id that names no payment itself leads to the payment of its family: the
 * first order of a renewal's id ("GPA.x..3" -> "GPA.x"), else a renewal of
 * the order ("GPA.x" -> "GPA.x..0", the first in key order: one key range
 * seek per provider of payments). At most one hit a provider.
 */
static enum terr
search_order_family(struct store *s, const char *q, struct console_hit *out, size_t max, size_t *n)
{
	char provider[PROVIDER_MAX] = "", lo[ID_MAX + 2], hi[ID_MAX + 2];
	size_t base = order_base_len(q);
	struct console_hit *h;
	struct pay_row p;
	struct key_hit kh;
	enum terr rc;
	int k, r;

	if (base == 0)
		base = strlen(q);
	if (base + 3 > sizeof(lo))
		return TERR_OK;
	/* [base.., base./): every key that is the base and "..", '/' following '.' in bytes. */
	snprintf(lo, sizeof(lo), "%.*s..", (int)base, q);
	snprintf(hi, sizeof(hi), "%.*s./", (int)base, q);
	for (k = 0; k < SEARCH_KEYS_MAX; k++) {
		if ((r = next_key(s, STMT_CONSOLE_NEXT_PAY_PROVIDER, provider, sizeof(provider),
			 NULL, 0)) <= 0)
			return r < 0 ? TERR_DB : TERR_OK;
		rc = TERR_NOTFOUND;
		if (q[base] != '\0') {
			/* A renewal's id: its first order, the base itself. */
			lo[base] = '\0';
			rc = store_pay_find_key(s, provider, lo, &p);
			lo[base] = '.';
			if (rc == TERR_OK) {
				kh.id = p.id;
				text_copy(kh.user, sizeof(kh.user), p.user);
			}
		}
		if (rc == TERR_NOTFOUND)
			rc = store_get(s, STMT_CONSOLE_PAY_KEY_RANGE, read_key_hit, &kh,
			    "console order search",
			    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(lo), SP_TEXT(hi)));
		if (rc == TERR_OK && (h = hit(out, max, n, HIT_PAYMENT, provider)) != NULL) {
			text_copy(h->user, sizeof(h->user), kh.user);
			text_copy(h->what, sizeof(h->what), "same order");
			h->id = kh.id;
		} else if (rc != TERR_OK && rc != TERR_NOTFOUND)
			return rc;
	}
	return TERR_OK;
}

enum terr
store_console_search(struct store *s, const char *q, struct console_hit *out, size_t max, size_t *n)
{
	char provider[PROVIDER_MAX] = "", kind[KIND_MAX] = "", user[USER_ID_MAX + 1];
	struct console_hit *h;
	size_t before;
	enum terr rc;
	int k, r;

	*n = 0;
	if ((rc = store_user_exists(s, q)) == TERR_OK)
		hit(out, max, n, HIT_USER, "");
	else if (rc != TERR_NOTFOUND)
		return rc;
	if (*n > 0)
		text_copy(out[0].user, sizeof(out[0].user), q);
	for (k = 0; k < SEARCH_KEYS_MAX; k++) {
		if ((r = next_key(s, STMT_CONSOLE_NEXT_LINK_KIND, provider, sizeof(provider), kind,
			 sizeof(kind))) <= 0) {
			if (r < 0)
				return TERR_DB;
			break;
		}
		if ((rc = store_link_find(s, provider, kind, q, user)) == TERR_OK &&
		    (h = hit(out, max, n, HIT_LINK, provider)) != NULL) {
			text_copy(h->what, sizeof(h->what), kind);
			text_copy(h->user, sizeof(h->user), user);
		} else if (rc != TERR_OK && rc != TERR_NOTFOUND)
			return rc;
	}
	if ((rc = search_by_provider(s, q, HIT_SUBSCRIPTION, out, max, n)) != TERR_OK)
		return rc;
	before = *n;
	if ((rc = search_by_provider(s, q, HIT_PAYMENT, out, max, n)) != TERR_OK)
		return rc;
	/* No payment has this key: one of its order's family may (Google Play's "..N"). */
	if (*n == before && (rc = search_order_family(s, q, out, max, n)) != TERR_OK)
		return rc;
	return search_by_provider(s, q, HIT_EVENT, out, max, n);
}

/* --- lists --- */

/* Rows of statement i bound to (text a, int b, max). */
static enum terr
rows_of(struct store *s, enum stmt i, const char *a, int64_t b, store_read_fn fn, void *out,
    size_t sz, size_t max, size_t *n, const char *what)
{
	return store_list(s, i, fn, out, sz, max, n, what,
	    STORE_PARAMS(SP_TEXT(a), SP_I64(b), SP_I64(max)));
}

enum terr
store_console_user_events(struct store *s, const char *user, int64_t before, struct inbox_row *out,
    size_t max, size_t *n)
{
	return rows_of(s, STMT_CONSOLE_USER_EVENTS, user, before > 0 ? before : INT64_MAX,
	    store_read_inbox, out, sizeof(*out), max, n, "user events");
}

enum terr
store_console_attention(struct store *s, enum inbox_state state, int64_t before,
    struct inbox_row *out, size_t max, size_t *n)
{
	return rows_of(s, STMT_CONSOLE_ATTENTION, inbox_state_str(state),
	    before > 0 ? before : INT64_MAX, store_read_inbox, out, sizeof(*out), max, n,
	    "attention");
}

enum terr
store_console_audit_of_event(struct store *s, const char *user, int64_t inbox_id,
    struct audit_row *out, size_t max, size_t *n)
{
	return rows_of(s, STMT_CONSOLE_AUDIT_OF_EVENT, user, inbox_id, store_read_audit, out,
	    sizeof(*out), max, n, "audit of event");
}

enum terr
store_console_ledger_of_event(struct store *s, const char *user, int64_t inbox_id,
    struct ledger_row *out, size_t max, size_t *n)
{
	return rows_of(s, STMT_CONSOLE_LEDGER_OF_EVENT, user, inbox_id, store_read_ledger, out,
	    sizeof(*out), max, n, "ledger of event");
}

enum terr
store_console_audit_get(struct store *s, int64_t id, struct audit_row *out)
{
	return store_get(s, STMT_CONSOLE_AUDIT_GET, store_read_audit, out, "audit get",
	    STORE_PARAMS(SP_I64(id)));
}

/* --- the overview --- */

struct by_state_walk {
	void (*fn)(void *arg, const char *provider, const char *state, int live, int64_t n);
	void *arg;
};

static enum terr
each_by_state(const struct store_row *row, void *arg)
{
	struct by_state_walk *w = arg;
	char provider[PROVIDER_MAX], state[24];

	store_col_text(row, 0, provider, sizeof(provider));
	store_col_text(row, 1, state, sizeof(state));
	w->fn(w->arg, provider, state, (int)store_col_i64(row, 2), store_col_i64(row, 3));
	return TERR_OK;
}

enum terr
store_console_subs_by_state(struct store *s,
    void (*fn)(void *arg, const char *provider, const char *state, int live, int64_t n), void *arg)
{
	struct by_state_walk w = { fn, arg };

	return store_each(s, STMT_CONSOLE_SUBS_BY_STATE, each_by_state, &w,
	    "subscriptions by state", NULL, 0);
}

/*
 * The first id in [lo, hi) of the table statement at reads whose time is at
 * or after t (hi when none): binary search on the rowid, whose order is the
 * order rows were written in, so their times only grow (a clock step or two
 * writers' batches committing out of order by a few ms blur a boundary by as
 * many rows, no more).
 */
static enum terr
first_id_at(struct store *s, enum stmt at, int64_t lo, int64_t hi, int64_t t, int64_t *out)
{
	int64_t mid, id, time;
	enum terr rc;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((rc = store_ints(s, at, &id, &time, "console stats",
			 STORE_PARAMS(SP_I64(mid)))) != TERR_OK)
			return rc;
		if (id == 0 || time >= t)
			hi = mid;
		else
			lo = id + 1;
	}
	*out = lo;
	return TERR_OK;
}

/* Active subscriptions at the end of each day from a difference array of (d0, d1, n) groups. */
static enum terr
each_series(const struct store_row *row, void *arg)
{
	int64_t *diff = arg, d0, d1;

	/* Active on days [d0, d1): started before the day ended, ended after it. */
	d0 = store_col_i64(row, 0);
	d1 = store_col_i64(row, 1);
	if (d1 < 0 || d1 > CONSOLE_DAYS)
		d1 = CONSOLE_DAYS;
	if (d0 < 0)
		d0 = 0;
	if (d0 < d1) {
		diff[d0] += store_col_i64(row, 2);
		diff[d1] -= store_col_i64(row, 2);
	}
	return TERR_OK;
}

static enum terr
active_series(struct store *s, struct console_stats *out)
{
	int64_t diff[CONSOLE_DAYS + 1], sum = 0;
	enum terr rc;
	int i;

	memset(diff, 0, sizeof(diff));
	if ((rc = store_each(s, STMT_CONSOLE_SUBS_SERIES, each_series, diff, "subscriptions series",
		 STORE_PARAMS(SP_I64(out->day0), SP_I64(DAY_MS)))) != TERR_OK)
		return rc;
	for (i = 0; i < CONSOLE_DAYS; i++)
		out->active[i] = sum += diff[i];
	return TERR_OK;
}

enum terr
store_console_stats(struct store *s, int64_t now, struct console_stats *out)
{
	int64_t max, from, to, id24, lid24, lmax;
	enum terr rc;
	int i;

	memset(out, 0, sizeof(*out));
	out->day0 = now - now % DAY_MS - (int64_t)(CONSOLE_DAYS - 1) * DAY_MS;
	if ((rc = store_ints(s, STMT_CONSOLE_INBOX_MAX_ID, &max, NULL, "console stats", NULL, 0)) !=
	    TERR_OK)
		return rc;
	/* Events per day: ids are dense (never deleted), so a day's count is a difference. */
	if ((rc = first_id_at(s, STMT_CONSOLE_INBOX_TIME_AT, 1, max + 1, out->day0, &from)) !=
	    TERR_OK)
		return rc;
	for (i = 0; i < CONSOLE_DAYS; i++) {
		if ((rc = first_id_at(s, STMT_CONSOLE_INBOX_TIME_AT, from, max + 1,
			 out->day0 + (int64_t)(i + 1) * DAY_MS, &to)) != TERR_OK ||
		    (rc = store_ints(s, STMT_CONSOLE_FAILED_IN, &out->failed[i], NULL,
			 "console stats", STORE_PARAMS(SP_I64(from), SP_I64(to)))) != TERR_OK)
			return rc;
		out->events[i] = to - from;
		from = to;
	}
	if ((rc = first_id_at(s, STMT_CONSOLE_INBOX_TIME_AT, 1, max + 1, now - DAY_MS, &id24)) !=
		TERR_OK ||
	    (rc = store_ints(s, STMT_CONSOLE_FAILED_IN, &out->failed_24h, NULL, "console stats",
		 STORE_PARAMS(SP_I64(id24), SP_I64(max + 1)))) != TERR_OK)
		return rc;
	out->events_24h = max + 1 - id24;
	/* Credits of the last 24 h: the ledger's rows from the first of them. */
	if ((rc = store_ints(s, STMT_CONSOLE_LEDGER_MAX_ID, &lmax, NULL, "console stats", NULL,
		 0)) != TERR_OK ||
	    (rc = first_id_at(s, STMT_CONSOLE_LEDGER_TIME_AT, 1, lmax + 1, now - DAY_MS, &lid24)) !=
		TERR_OK ||
	    (rc = store_ints(s, STMT_CONSOLE_LEDGER_SUMS, &out->granted_24h, &out->spent_24h,
		 "console stats", STORE_PARAMS(SP_I64(lid24)))) != TERR_OK)
		return rc;
	return active_series(s, out);
}
