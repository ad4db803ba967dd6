/*
 * The support console's pages (GET): the overview, search, an event,
 * events needing attention, dead deliveries, and what an action did (the
 * user page is console_user.c). Reads go through the thread's read
 * connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "console/console_chart.h"
#include "console/console_html.h"
#include "console/console_pages.h"
#include "console/console_reply.h"
#include "store/store_access.h"
#include "store/store_rows.h"

/* Subscription groups and jobs on the overview. */
#define GROUPS_MAX 64
#define JOBS_MAX   32

/* --- pieces --- */

static void
event_link(struct buf *b, int64_t id)
{
	buf_printf(b, "<a href=\"/admin/event?id=%lld\">#%lld</a>", (long long)id, (long long)id);
}

static int
replayable(enum inbox_state st)
{
	return st == INBOX_ORPHANED || st == INBOX_UNKNOWN_PRODUCT || st == INBOX_FAILED;
}

/* A row's replay form: a reason and the button. */
static void
replay_form(struct creq *q, int64_t inbox_id)
{
	ch_form_begin(q, "action", "event.replay", "inline");
	ch_hidden_int(&q->out, "event", inbox_id);
	ch_reason(&q->out);
	ch_form_end(&q->out, "Replay", NULL);
}

/* The read connection, or the 503 page was sent. */
struct store *
console_reader(struct creq *q)
{
	struct store *s = svc_store(q->sv);

	if (s == NULL)
		console_fail(q, 503, "Unavailable", "The database cannot be read: try again.");
	return s;
}

void
console_storage_failed(struct creq *q)
{
	console_fail(q, 503, "Unavailable", "The database could not be read: try again.");
}

/* An integer query parameter within [min, max]; def when absent; -1 when malformed. */
int64_t
console_query_int(struct creq *q, const char *name, int64_t min, int64_t max, int64_t def)
{
	const char *v = form_get(&q->query, name);
	int64_t n;

	if (v == NULL || v[0] == '\0')
		return def;
	return text_i64s(v, min, max, &n) == TERR_OK ? n : -1;
}

/* A table of events (inbox rows) with a replay form where one helps. */
void
console_events_table(struct creq *q, const struct inbox_row *rows, size_t n, int show_user)
{
	struct buf *b = &q->out;
	size_t i;

	ch_table_begin(b,
	    show_user ? "Event|Received|Provider|Type|State|Reason|User or waiting for|"
			"Replay"
		      : "Event|Received|Provider|Type|State|Reason|Replay");
	for (i = 0; i < n; i++) {
		const struct inbox_row *e = &rows[i];
		buf_puts(b, "<tr><td>");
		event_link(b, e->id);
		buf_puts(b, "</td>");
		ch_td_time(b, e->received_at);
		ch_td(b, e->provider);
		ch_td(b, e->type);
		ch_td_badge(b, inbox_state_str(e->state));
		ch_td(b, e->reason);
		if (show_user) {
			buf_puts(b, "<td>");
			if (e->user[0] != '\0')
				ch_user_link(b, e->user);
			else if (e->orphan_kind[0] != '\0') {
				ch_text(b, e->orphan_kind);
				buf_puts(b, " <span class=\"mono\">");
				ch_text(b, e->orphan_id);
				buf_puts(b, "</span>");
			}
			buf_puts(b, "</td>");
		}
		buf_puts(b, "<td>");
		if (replayable(e->state))
			replay_form(q, e->id);
		buf_puts(b, "</td></tr>\n");
	}
	ch_table_end(b, n, "No events.");
}

static void
audit_table(struct buf *b, const struct audit_row *a, size_t n)
{
	size_t i;

	ch_table_begin(b, "#Id|At|Actor|Action|Object|Detail|Reason|User");
	for (i = 0; i < n; i++) {
		buf_puts(b, "<tr>");
		ch_td_id(b, a[i].id);
		ch_td_time(b, a[i].at);
		ch_td(b, a[i].actor);
		ch_td(b, a[i].action);
		ch_td_mono(b, a[i].object);
		ch_td(b, a[i].detail);
		ch_td(b, a[i].reason);
		buf_puts(b, "<td>");
		ch_user_link(b, a[i].user);
		buf_puts(b, "</td></tr>\n");
	}
	ch_table_end(b, n, "No audit rows.");
}

/* --- overview --- */

struct groups {
	struct {
		char provider[PROVIDER_MAX];
		char state[24];
		int live;
		int64_t n;
	} g[GROUPS_MAX];
	size_t n;
	int64_t total;
};

static void
add_group(void *arg, const char *provider, const char *state, int live, int64_t n)
{
	struct groups *g = arg;

	g->total += n;
	if (g->n == GROUPS_MAX)
		return;
	text_copy(g->g[g->n].provider, sizeof(g->g[g->n].provider), provider);
	text_copy(g->g[g->n].state, sizeof(g->g[g->n].state), state);
	g->g[g->n].live = live;
	g->g[g->n++].n = n;
}

struct gauges {
	int64_t failed, orphaned, unknown, dead, pending;
};

static void
add_gauge(void *arg, const char *gauge, const char *a, const char *b, int64_t n)
{
	struct gauges *g = arg;

	(void)a;
	if (strcmp(gauge, "inbox") == 0) {
		if (strcmp(b, "failed") == 0)
			g->failed += n;
		else if (strcmp(b, "orphaned") == 0)
			g->orphaned += n;
		else
			g->unknown += n;
	} else if (strcmp(b, "dead") == 0)
		g->dead += n;
	else
		g->pending += n;
}

static void
card(struct buf *b, const char *href, int64_t n, const char *label, const char *sub)
{
	buf_puts(b, href != NULL ? "<a class=\"card\" href=\"" : "<div class=\"card\">");
	if (href != NULL) {
		ch_text(b, href);
		buf_puts(b, "\">");
	}
	buf_puts(b, "<div class=\"n\">");
	ch_int(b, n);
	buf_puts(b, "</div><div class=\"l\">");
	ch_text(b, label);
	if (sub != NULL) {
		buf_puts(b, "<br>");
		ch_text(b, sub);
	}
	buf_puts(b, href != NULL ? "</div></a>\n" : "</div></div>\n");
}

/* "3 h ago" */
static void
ago(struct buf *b, int64_t now, int64_t then)
{
	int64_t s = (now - then) / 1000;

	if (then == 0)
		return;
	if (s < 120)
		buf_printf(b, " <span class=\"muted\">(%lld s ago)</span>", (long long)s);
	else if (s < 7200)
		buf_printf(b, " <span class=\"muted\">(%lld min ago)</span>", (long long)(s / 60));
	else if (s < 172800)
		buf_printf(b, " <span class=\"muted\">(%lld h ago)</span>", (long long)(s / 3600));
	else
		buf_printf(b, " <span class=\"muted\">(%lld d ago)</span>", (long long)(s / 86400));
}

void
page_overview(struct creq *q)
{
	struct buf *b = &q->out;
	struct console_stats *st = NULL;
	struct groups *g = NULL;
	struct job_row *jobs = NULL;
	struct gauges ga;
	struct store *s;
	char sub[96];
	size_t nj = 0, i;

	if ((s = console_reader(q)) == NULL)
		return;
	memset(&ga, 0, sizeof(ga));
	st = calloc(1, sizeof(*st));
	g = calloc(1, sizeof(*g));
	jobs = calloc(JOBS_MAX, sizeof(*jobs));
	if (st == NULL || g == NULL || jobs == NULL ||
	    store_console_stats(s, q->now, st) != TERR_OK ||
	    store_console_subs_by_state(s, add_group, g) != TERR_OK ||
	    store_gauges(s, add_gauge, &ga) != TERR_OK ||
	    store_jobs_list(s, jobs, JOBS_MAX, &nj) != TERR_OK) {
		console_storage_failed(q);
		goto out;
	}
	ch_page_begin(q, "Overview");
	ch_raw(b, "<h1>Overview</h1>\n<div class=\"cards\">\n");
	card(b, NULL, g->total, "active subscriptions", "trialing, active, past due, canceled");
	snprintf(sub, sizeof(sub), "%lld still failed", (long long)st->failed_24h);
	card(b, NULL, st->events_24h, "events received in 24 h", sub);
	card(b, NULL, st->granted_24h, "credits granted in 24 h", NULL);
	card(b, NULL, st->spent_24h, "credits spent in 24 h", NULL);
	snprintf(sub, sizeof(sub), "%lld failed, %lld orphaned, %lld unknown product",
	    (long long)ga.failed, (long long)ga.orphaned, (long long)ga.unknown);
	card(b, "/admin/attention", ga.failed + ga.orphaned + ga.unknown, "events need attention",
	    sub);
	snprintf(sub, sizeof(sub), "%lld pending", (long long)ga.pending);
	card(b, "/admin/outbox", ga.dead, "dead deliveries", sub);
	ch_raw(b, "</div>\n<h2>The last 90 days</h2>\n<div class=\"chart\">");
	console_chart(b, st);
	ch_raw(b,
	    "</div>\n<div class=\"forms\">\n<div>\n<h2>Active subscriptions by provider and "
	    "state</h2>\n");
	ch_table_begin(b, "Provider|State|Mode|#Subscriptions");
	for (i = 0; i < g->n; i++) {
		buf_puts(b, "<tr>");
		ch_td(b, g->g[i].provider);
		ch_td_badge(b, g->g[i].state);
		ch_td(b, g->g[i].live ? "live" : "sandbox");
		ch_td_int(b, g->g[i].n);
		buf_puts(b, "</tr>\n");
	}
	ch_table_end(b, g->n, "No subscription gives access.");
	ch_raw(b, "</div>\n<div>\n<h2>Jobs</h2>\n");
	ch_table_begin(b, "Job|Last success|Last result|Running");
	for (i = 0; i < nj; i++) {
		buf_puts(b, "<tr>");
		ch_td(b, jobs[i].name);
		buf_puts(b, "<td class=\"t\">");
		ch_time(b, jobs[i].last_success_at);
		ago(b, q->now, jobs[i].last_success_at);
		buf_puts(b, "</td>");
		ch_td(b, jobs[i].last_result);
		buf_puts(b, "<td class=\"t\">");
		if (jobs[i].lease_until > q->now) {
			buf_puts(b, "since ");
			ch_time(b, jobs[i].last_started_at);
		}
		buf_puts(b, "</td>");
		buf_puts(b, "</tr>\n");
	}
	ch_table_end(b, nj, "No job has run yet.");
	ch_raw(b, "</div>\n</div>\n");
	ch_page_end(q);
	console_send(q, 200);
out:
	free(st);
	free(g);
	free(jobs);
}

/* --- search --- */

static const char *
hit_kind(const struct console_hit *h)
{
	switch (h->kind) {
	case HIT_USER: return "user id";
	case HIT_LINK: return "linked id";
	case HIT_SUBSCRIPTION: return "subscription";
	case HIT_PAYMENT: return "payment";
	case HIT_EVENT: return "event";
	}
	return "";
}

/* 303 to the user page of user. */
static void
to_user(struct creq *q, const char *user)
{
	char storage[512];
	struct buf loc;

	buf_init_fixed(&loc, storage, sizeof(storage));
	buf_puts(&loc, "/admin/user?id=");
	ch_url(&loc, user);
	console_redirect(q, buf_cstr(&loc));
}

void
page_search(struct creq *q)
{
	const char *term = form_get(&q->query, "q");
	struct buf *b = &q->out;
	struct console_hit *hits = NULL;
	struct store *s;
	size_t n = 0, i;
	int one = 1;

	if (term == NULL || term[0] == '\0') {
		ch_page_begin(q, "Search");
		ch_raw(b,
		    "<h1>Search</h1>\n<p>Give a user id, or any id a provider knows the user "
		    "by: a Stripe customer, subscription or invoice, an Apple original "
		    "transaction id or appAccountToken, a Google Play purchase token or order "
		    "id (GPA.&hellip;, with or without its ..N), a RevenueCat app user id, a "
		    "Telegram user id, a Razorpay customer or payment, or a provider's event "
		    "id.</p>\n");
		ch_page_end(q);
		console_send(q, 200);
		return;
	}
	if (!text_id_valid(term, ID_MAX - 1)) {
		console_fail(q, 400, "Search",
		    "That is not an id: ids are up to 255 bytes of text.");
		return;
	}
	if ((s = console_reader(q)) == NULL)
		return;
	if ((hits = calloc(CONSOLE_LIST_MAX, sizeof(*hits))) == NULL ||
	    store_console_search(s, term, hits, CONSOLE_LIST_MAX, &n) != TERR_OK) {
		console_storage_failed(q);
		goto out;
	}
	/* Everything found belongs to one user: that user's page. */
	for (i = 0; i < n; i++)
		if (hits[i].user[0] == '\0' || strcmp(hits[i].user, hits[0].user) != 0)
			one = 0;
	if (n > 0 && one) {
		to_user(q, hits[0].user);
		goto out;
	}
	ch_page_begin(q, "Search");
	ch_raw(b, "<h1>Search: <span class=\"mono\">");
	ch_text(b, term);
	ch_raw(b, "</span></h1>\n");
	ch_table_begin(b, "Found|Provider|Kind|User|Record");
	for (i = 0; i < n; i++) {
		buf_puts(b, "<tr>");
		ch_td(b, hit_kind(&hits[i]));
		ch_td(b, hits[i].provider);
		ch_td(b, hits[i].what);
		buf_puts(b, "<td>");
		ch_user_link(b, hits[i].user);
		buf_puts(b, "</td><td>");
		if (hits[i].kind == HIT_EVENT)
			event_link(b, hits[i].id);
		else if (hits[i].id != 0)
			buf_printf(b, "#%lld", (long long)hits[i].id);
		buf_puts(b, "</td></tr>\n");
	}
	ch_table_end(b, n, "Nothing has this id.");
	ch_page_end(q);
	console_send(q, 200);
out:
	free(hits);
}

/* --- an event --- */

static void
kv(struct buf *b, const char *k)
{
	buf_puts(b, "<dt>");
	ch_text(b, k);
	buf_puts(b, "</dt><dd>");
}

void
page_event(struct creq *q)
{
	struct buf *b = &q->out, body;
	struct audit_row *au = NULL;
	struct inbox_row e;
	struct store *s;
	int64_t id = console_query_int(q, "id", 1, INT64_MAX, -1);
	size_t na = 0;
	enum terr rc;

	buf_init(&body, BODY_MAX);
	if (id < 0) {
		console_fail(q, 400, "No such event", "That is not an event number.");
		goto out;
	}
	if ((s = console_reader(q)) == NULL)
		goto out;
	if ((rc = store_inbox_get(s, id, &e, &body)) == TERR_NOTFOUND) {
		console_fail(q, 404, "No such event", "The inbox has no event by that number.");
		goto out;
	}
	if (rc != TERR_OK || (au = calloc(CONSOLE_LIST_MAX, sizeof(*au))) == NULL ||
	    (e.user[0] != '\0' &&
		store_console_audit_of_event(s, e.user, id, au, CONSOLE_LIST_MAX, &na) !=
		    TERR_OK)) {
		console_storage_failed(q);
		goto out;
	}
	ch_page_begin(q, "Event");
	buf_printf(b, "<h1>Event #%lld</h1>\n<dl class=\"kv\">", (long long)id);
	kv(b, "State");
	ch_badge(b, inbox_state_str(e.state));
	if (e.reason[0] != '\0') {
		buf_puts(b, " ");
		ch_text(b, e.reason);
	}
	kv(b, "Provider");
	ch_text(b, e.provider);
	buf_puts(b, e.live ? "" : " <span class=\"muted\">(sandbox)</span>");
	kv(b, "Event id");
	buf_puts(b, "<span class=\"mono\">");
	ch_text(b, e.event_id);
	buf_puts(b, "</span>");
	kv(b, "Type");
	ch_text(b, e.type);
	kv(b, "User");
	ch_user_link(b, e.user);
	if (e.state == INBOX_ORPHANED) {
		kv(b, "Waiting for");
		ch_text(b, e.orphan_kind);
		buf_puts(b, " <span class=\"mono\">");
		ch_text(b, e.orphan_id);
		buf_puts(b, "</span>");
	}
	kv(b, "Provider time");
	ch_time(b, e.event_at);
	kv(b, "Received");
	ch_time(b, e.received_at);
	kv(b, "Last processed");
	ch_time(b, e.updated_at);
	kv(b, "Attempts");
	ch_int(b, e.attempts);
	buf_puts(b, "</dd></dl>\n");
	if (replayable(e.state)) {
		ch_raw(b, "<h2>Mend</h2>\n<div class=\"forms\">\n");
		ch_form_begin(q, "action", "event.replay", "box");
		ch_raw(b,
		    "<h3>Replay</h3><p class=\"muted\">Apply it again, now that its cause is "
		    "fixed.</p>");
		ch_hidden_int(b, "event", id);
		ch_raw(b, "<label>Reason ");
		ch_reason(b);
		ch_raw(b, "</label>");
		ch_form_end(b, "Replay", NULL);
		if (e.state == INBOX_ORPHANED && strcmp(e.orphan_kind, "subscription") != 0 &&
		    strcmp(e.orphan_kind, "payment") != 0) {
			/* Linking the id it waits for applies it at once, in the same transaction. */
			ch_form_begin(q, "action", "links.add", "box");
			ch_raw(b, "<h3>Link its ");
			ch_text(b, e.orphan_kind);
			ch_raw(b, " to a user</h3>");
			ch_hidden(b, "provider", e.provider);
			ch_hidden(b, "kind", e.orphan_kind);
			ch_hidden(b, "ext_id", e.orphan_id);
			ch_raw(b,
			    "<label>User <input name=\"user\" required></label><label>Reason ");
			ch_reason(b);
			ch_raw(b, "</label>");
			ch_form_end(b, "Link and apply", NULL);
		}
		ch_raw(b, "</div>\n");
	}
	if (na > 0) {
		ch_raw(b, "<h2>What it changed</h2>\n");
		audit_table(b, au, na);
	}
	ch_raw(b, "<h2>Raw body <span class=\"muted\">(as received, ");
	ch_int(b, (int64_t)body.len);
	ch_raw(b, " bytes)</span></h2>\n<pre>");
	ch_body(b, body.p != NULL ? body.p : "", body.len);
	ch_raw(b, "</pre>\n");
	ch_page_end(q);
	console_send(q, 200);
out:
	buf_release(&body);
	free(au);
}

/* --- events needing attention --- */

void
page_attention(struct creq *q)
{
	static const enum inbox_state tabs[] = { INBOX_FAILED, INBOX_ORPHANED,
		INBOX_UNKNOWN_PRODUCT };
	const char *want = form_get(&q->query, "state");
	struct buf *b = &q->out;
	struct inbox_row *ev = NULL;
	struct gauges ga;
	struct store *s;
	enum inbox_state state = INBOX_FAILED;
	int64_t before = console_query_int(q, "before", 1, INT64_MAX, 0), count;
	size_t n = 0, i;
	int v;

	if (want != NULL &&
	    ((v = inbox_state_parse(want)) < 0 || !replayable((enum inbox_state)v))) {
		console_fail(q, 400, "Attention",
		    "Events need attention when failed, orphaned or "
		    "of an unknown product.");
		return;
	}
	if (want != NULL)
		state = (enum inbox_state)v;
	if (before < 0) {
		console_fail(q, 400, "Attention", "That is not an event number.");
		return;
	}
	if ((s = console_reader(q)) == NULL)
		return;
	memset(&ga, 0, sizeof(ga));
	if ((ev = calloc(CONSOLE_LIST_MAX, sizeof(*ev))) == NULL ||
	    store_gauges(s, add_gauge, &ga) != TERR_OK ||
	    store_console_attention(s, state, before, ev, CONSOLE_LIST_MAX, &n) != TERR_OK) {
		console_storage_failed(q);
		goto out;
	}
	ch_page_begin(q, "Attention");
	ch_raw(b,
	    "<h1>Events needing attention</h1>\n<p class=\"muted\">Stored with their reason "
	    "and alerted; replay one once its cause is fixed (a catalog entry, a link, a "
	    "fix), or link the id an orphan waits for from its page.</p>\n<div class=\"tabs\">");
	for (i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++) {
		count = tabs[i] == INBOX_FAILED ? ga.failed
		    : tabs[i] == INBOX_ORPHANED ? ga.orphaned
						: ga.unknown;
		buf_printf(b, "<a href=\"/admin/attention?state=%s\"%s>", inbox_state_str(tabs[i]),
		    tabs[i] == state ? " class=\"on\"" : "");
		ch_text(b, inbox_state_str(tabs[i]));
		buf_puts(b, " ");
		ch_int(b, count);
		buf_puts(b, "</a>");
	}
	ch_raw(b, "</div>\n");
	console_events_table(q, ev, n, 1);
	if (n == CONSOLE_LIST_MAX)
		buf_printf(b,
		    "<p><a href=\"/admin/attention?state=%s&amp;before=%lld\">Older</a></p>\n",
		    inbox_state_str(state), (long long)ev[n - 1].id);
	ch_page_end(q);
	console_send(q, 200);
out:
	free(ev);
}

/* --- dead deliveries --- */

void
page_outbox(struct creq *q)
{
	struct buf *b = &q->out;
	struct outbox_item *it = NULL;
	struct store *s;
	int64_t after = console_query_int(q, "after", 1, INT64_MAX, 0);
	size_t n = 0, i, plen;

	if (after < 0) {
		console_fail(q, 400, "Outbox", "That is not a delivery number.");
		return;
	}
	if ((s = console_reader(q)) == NULL)
		return;
	if ((it = calloc(CONSOLE_LIST_MAX, sizeof(*it))) == NULL ||
	    store_outbox_list(s, "dead", after, it, CONSOLE_LIST_MAX, &n) != TERR_OK) {
		console_storage_failed(q);
		goto out;
	}
	ch_page_begin(q, "Outbox");
	ch_raw(b,
	    "<h1>Dead deliveries</h1>\n<p class=\"muted\">Webhooks, notifications and "
	    "alerts the deliver job gave up on. Retry puts one back in the queue, due "
	    "now.</p>\n");
	ch_table_begin(b, "#Id|Kind|Topic|User|#Attempts|Last error|Created|Payload|Retry");
	for (i = 0; i < n; i++) {
		buf_puts(b, "<tr>");
		ch_td_id(b, it[i].id);
		ch_td(b, it[i].kind);
		ch_td(b, it[i].topic);
		buf_puts(b, "<td>");
		ch_user_link(b, it[i].user);
		buf_puts(b, "</td>");
		ch_td_int(b, it[i].attempts);
		ch_td(b, it[i].last_error);
		ch_td_time(b, it[i].created_at);
		buf_puts(b, "<td class=\"mono\">");
		plen = strlen(it[i].payload);
		ch_textn(b, it[i].payload, plen > 300 ? 300 : plen);
		if (plen > 300)
			buf_puts(b, "\xe2\x80\xa6");
		buf_puts(b, "</td><td>");
		ch_form_begin(q, "action", "outbox.retry", "inline");
		ch_hidden_int(b, "outbox", it[i].id);
		ch_reason(b);
		ch_form_end(b, "Retry", NULL);
		buf_puts(b, "</td></tr>\n");
	}
	ch_table_end(b, n, "No dead deliveries.");
	if (n == CONSOLE_LIST_MAX)
		buf_printf(b, "<p><a href=\"/admin/outbox?after=%lld\">More</a></p>\n",
		    (long long)it[n - 1].id);
	ch_page_end(q);
	console_send(q, 200);
out:
	free(it);
}

/* --- what an action did --- */

void
page_done(struct creq *q)
{
	struct buf *b = &q->out;
	struct audit_row *au = NULL, one;
	struct ledger_row *le = NULL;
	struct inbox_row e;
	struct store *s;
	int64_t id = console_query_int(q, "event", 1, INT64_MAX, 0);
	int64_t aid = console_query_int(q, "audit", 1, INT64_MAX, 0);
	const char *user = "";
	size_t na = 0, nl = 0, i;
	int have_event = 0, seen = 0;
	enum terr rc;

	if (id < 0 || aid < 0 || (id == 0 && aid == 0)) {
		console_fail(q, 400, "Done", "Nothing to show.");
		return;
	}
	if ((s = console_reader(q)) == NULL)
		return;
	if ((au = calloc(CONSOLE_LIST_MAX + 1, sizeof(*au))) == NULL ||
	    (le = calloc(CONSOLE_LIST_MAX, sizeof(*le))) == NULL) {
		console_storage_failed(q);
		goto out;
	}
	if (id > 0) {
		if ((rc = store_inbox_get(s, id, &e, NULL)) != TERR_OK) {
			console_fail(q, rc == TERR_NOTFOUND ? 404 : 503, "Done", "No such event.");
			goto out;
		}
		have_event = 1;
		user = e.user;
		if (user[0] != '\0' &&
		    (store_console_audit_of_event(s, user, id, au, CONSOLE_LIST_MAX, &na) !=
			    TERR_OK ||
			store_console_ledger_of_event(s, user, id, le, CONSOLE_LIST_MAX, &nl) !=
			    TERR_OK)) {
			console_storage_failed(q);
			goto out;
		}
	}
	if (aid > 0) {
		if (store_console_audit_get(s, aid, &one) != TERR_OK) {
			console_storage_failed(q);
			goto out;
		}
		for (i = 0; i < na; i++)
			seen |= au[i].id == aid;
		if (!seen)
			au[na++] = one;
		if (user[0] == '\0')
			user = one.user;
	}
	ch_page_begin(q, "Done");
	ch_raw(b, "<h1>Done</h1>\n");
	if (have_event) {
		int ok = e.state == INBOX_APPLIED || e.state == INBOX_IGNORED;
		ch_raw(b, ok ? "<p class=\"msg ok\">" : "<p class=\"msg bad\">");
		buf_printf(b, "Event <a href=\"/admin/event?id=%lld\">#%lld</a> ", (long long)id,
		    (long long)id);
		ch_text(b, e.type);
		ch_raw(b, ": ");
		ch_badge(b, inbox_state_str(e.state));
		if (e.reason[0] != '\0') {
			ch_raw(b, " ");
			ch_text(b, e.reason);
		}
		ch_raw(b, "</p>\n");
	}
	ch_raw(b, "<h2>Audit rows written</h2>\n");
	audit_table(b, au, na);
	if (nl > 0) {
		ch_raw(b, "<h2>Ledger entries written</h2>\n");
		ch_table_begin(b, "#Entry|At|#Amount|Kind|#Grant|Actor|Reason");
		for (i = 0; i < nl; i++) {
			buf_puts(b, "<tr>");
			ch_td_id(b, le[i].id);
			ch_td_time(b, le[i].created_at);
			ch_td_int(b, le[i].amount);
			ch_td(b, le[i].kind);
			ch_td_id(b, le[i].grant_id);
			ch_td(b, le[i].actor);
			ch_td(b, le[i].reason);
			buf_puts(b, "</tr>\n");
		}
		ch_table_end(b, nl, "");
	}
	if (user[0] != '\0') {
		ch_raw(b, "<p>Back to ");
		ch_user_link(b, user);
		ch_raw(b, "</p>\n");
	}
	ch_page_end(q);
	console_send(q, 200);
out:
	free(au);
	free(le);
}
