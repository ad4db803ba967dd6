/*
 * The support console's user page (GET /admin/user?id=): everything tally
 * knows of one user and the forms that mend it. The facts are the user
 * document itself (report.h: the same as `tally user show --json` and the
 * API's GET /v1/users/{id}), rendered as tables; the events behind them come
 * from the inbox, newest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "console/console_actions.h"
#include "console/console_html.h"
#include "console/console_pages.h"
#include "console/console_reply.h"
#include "console/console_user.h"
#include "core/report.h"
#include "store/store_rows.h"

/* The user document: a user has at most a few KB of it; the bound is the API's. */
#define DOC_MAX (4 * 1024 * 1024)

static void
sub_state_select(struct buf *b)
{
	int i;

	/* No state is chosen until the admin chooses one. */
	buf_puts(b,
	    "<select name=\"state\" aria-label=\"State\" required><option value=\"\" "
	    "selected disabled>state\xe2\x80\xa6</option>");
	for (i = 1; i < SUB__MAX; i++) {
		buf_puts(b, "<option>");
		ch_text(b, sub_state_str((enum sub_state)i));
		buf_puts(b, "</option>");
	}
	buf_puts(b, "</select>");
}

/* A small muted line under a cell's value. */
static void
note(struct buf *b, const char *label, const char *iso)
{
	if (iso == NULL)
		return;
	buf_puts(b, "<br><span class=\"muted\">");
	ch_text(b, label);
	buf_puts(b, " ");
	ch_iso(b, iso);
	buf_puts(b, "</span>");
}

static void
user_subscriptions(struct creq *q, const cJSON *doc)
{
	struct buf *b = &q->out;
	const cJSON *el;
	int64_t id;
	int access, cancel;
	size_t n = 0;

	ch_raw(b, "<h2>Subscriptions</h2>\n");
	ch_table_begin(b, "#Id|Provider|Product|State|Access until|Period|Set the state");
	cJSON_ArrayForEach (el, jarr(doc, "subscriptions")) {
		n++;
		id = 0;
		jint(el, "id", &id);
		access = cancel = 0;
		jbool(el, "access", &access);
		jbool(el, "cancel_at_period_end", &cancel);
		buf_puts(b, "<tr>");
		ch_td_id(b, id);
		buf_puts(b, "<td>");
		ch_text(b, jstr(el, "provider"));
		buf_puts(b, "<br><span class=\"mono muted\">");
		ch_text(b, jstr(el, "provider_id"));
		buf_puts(b, "</span></td>");
		ch_td(b, jstr(el, "product"));
		buf_puts(b, "<td>");
		ch_badge(b, jstr(el, "state"));
		if (cancel)
			buf_puts(b, "<br><span class=\"muted\">cancels at period end</span>");
		note(b, "trial ends", jstr(el, "trial_end"));
		note(b, "grace until", jstr(el, "grace_until"));
		buf_puts(b, "</td><td class=\"t\">");
		if (access)
			ch_iso(b, jstr(el, "access_until"));
		else
			ch_badge(b, "no access");
		buf_puts(b, "</td><td class=\"t\">");
		ch_iso(b, jstr(el, "period_start"));
		buf_puts(b, " \xe2\x86\x92<br>");
		ch_iso(b, jstr(el, "period_end"));
		buf_puts(b, "</td><td>");
		ch_form_begin(q, "action", "subscription.set", "inline");
		ch_hidden(b, "user", jstr(doc, "user_id"));
		ch_hidden_int(b, "sub", id);
		sub_state_select(b);
		ch_reason(b);
		ch_form_end(b, "Set", NULL);
		buf_puts(b, "</td></tr>\n");
	}
	ch_table_end(b, n, "No subscriptions.");
}

/* --- the user document's lists, as tables --- */

enum col_type {
	COL_TEXT,   /* a string */
	COL_MONO,   /* a string in a fixed-width font (ids) */
	COL_ID,     /* an integer id (empty when 0 or null) */
	COL_INT,    /* a number, grouped */
	COL_SIGNED, /* a credit amount with its sign */
	COL_TIME,   /* an RFC 3339 time */
};

struct column {
	const char *head; /* a leading '#' right-aligns it (ch_table_begin) */
	const char *key;
	enum col_type type;
};

/* A table of the objects of arr, one column per cols[i]. */
static void
doc_table(struct buf *b, const cJSON *arr, const struct column *cols, size_t ncols,
    const char *none)
{
	char head[256] = "";
	const cJSON *el;
	size_t i, n = 0, used = 0;
	int64_t v;

	for (i = 0; i < ncols; i++)
		used += (size_t)snprintf(head + used, used < sizeof(head) ? sizeof(head) - used : 0,
		    "%s%s", i > 0 ? "|" : "", cols[i].head);
	ch_table_begin(b, head);
	cJSON_ArrayForEach (el, arr) {
		n++;
		buf_puts(b, "<tr>");
		for (i = 0; i < ncols; i++) {
			v = 0;
			switch (cols[i].type) {
			case COL_TEXT: ch_td(b, jstr(el, cols[i].key)); break;
			case COL_MONO: ch_td_mono(b, jstr(el, cols[i].key)); break;
			case COL_TIME: ch_td_iso(b, jstr(el, cols[i].key)); break;
			case COL_ID:
				if (jint(el, cols[i].key, &v) == 1 && v != 0)
					ch_td_id(b, v);
				else
					ch_td(b, "");
				break;
			case COL_INT:
				jint(el, cols[i].key, &v);
				ch_td_int(b, v);
				break;
			case COL_SIGNED:
				jint(el, cols[i].key, &v);
				buf_puts(b, v > 0 ? "<td class=\"num\">+" : "<td class=\"num\">");
				ch_int(b, v);
				buf_puts(b, "</td>");
				break;
			}
		}
		buf_puts(b, "</tr>\n");
	}
	ch_table_end(b, n, none);
}

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const struct column ent_cols[] = { { "Name", "name", COL_TEXT },
	{ "Source", "source", COL_TEXT }, { "#Subscription", "subscription_id", COL_ID },
	{ "Ends", "ends_at", COL_TIME } };
static const struct column grant_cols[] = { { "#Grant", "id", COL_ID },
	{ "Source", "source", COL_TEXT }, { "Product", "product", COL_TEXT },
	{ "#Granted", "granted", COL_INT }, { "#Remaining", "remaining", COL_INT },
	{ "Expires", "expires_at", COL_TIME } };
static const struct column ledger_cols[] = { { "#Entry", "id", COL_ID }, { "At", "at", COL_TIME },
	{ "#Amount", "amount", COL_SIGNED }, { "Kind", "kind", COL_TEXT },
	{ "#Grant", "grant_id", COL_ID }, { "Actor", "actor", COL_TEXT },
	{ "Reason", "reason", COL_TEXT } };
static const struct column audit_cols[] = { { "#Id", "id", COL_ID }, { "At", "at", COL_TIME },
	{ "Actor", "actor", COL_TEXT }, { "Action", "action", COL_TEXT },
	{ "Object", "object", COL_MONO }, { "Detail", "detail", COL_TEXT },
	{ "Reason", "reason", COL_TEXT } };

static void
user_balance(struct buf *b, const cJSON *doc)
{
	const cJSON *bal = jobj(doc, "balance");
	int64_t v = 0;

	jint(bal, "available", &v);
	ch_raw(b, "<h2>Balance: ");
	ch_int(b, v);
	ch_raw(b, " credits</h2>\n");
	doc_table(b, jarr(bal, "grants"), grant_cols, NCOLS(grant_cols), "No credits.");
}

static void
user_actions(struct creq *q, const char *user)
{
	struct buf *b = &q->out;
	size_t i;

	ch_raw(b, "<h2>Mend</h2>\n<div class=\"forms\">\n");
	ch_form_begin(q, "action", "credits.grant", "box");
	ch_raw(b, "<h3>Grant credits</h3>");
	ch_hidden(b, "user", user);
	ch_raw(b,
	    "<label>Credits <input name=\"amount\" type=\"number\" min=\"1\" "
	    "max=\"1000000000\" required></label><label>Expires (optional) <input "
	    "name=\"expires\" placeholder=\"2026-12-31\"></label><label>Reason ");
	ch_reason(b);
	ch_raw(b, "</label>");
	ch_form_end(b, "Grant", NULL);
	ch_raw(b, "\n");
	ch_form_begin(q, "action", "credits.revoke", "box");
	ch_raw(b, "<h3>Revoke credits</h3>");
	ch_hidden(b, "user", user);
	ch_raw(b,
	    "<label>Credits <input name=\"amount\" type=\"number\" min=\"1\" "
	    "max=\"1000000000\" required></label><label>Reason ");
	ch_reason(b);
	ch_raw(b, "</label>");
	ch_form_end(b, "Revoke", "danger");
	ch_raw(b, "\n");
	ch_form_begin(q, "action", "links.add", "box");
	ch_raw(b, "<h3>Link a provider's id</h3>");
	ch_hidden(b, "user", user);
	ch_raw(b, "<label>Provider <select name=\"provider\">");
	for (i = 0; console_providers[i] != NULL; i++) {
		ch_raw(b, "<option>");
		ch_raw(b, console_providers[i]);
		ch_raw(b, "</option>");
	}
	ch_raw(b,
	    "</select></label><label>Kind <input name=\"kind\" list=\"kinds\" required "
	    "placeholder=\"customer\"></label><label>Id <input name=\"ext_id\" required>"
	    "</label><label>Reason ");
	ch_reason(b);
	ch_raw(b, "</label>");
	ch_form_end(b, "Link", NULL);
	ch_raw(b,
	    "\n<datalist id=\"kinds\"><option>customer</option><option>app_account_token"
	    "</option><option>original_transaction_id</option><option>app_user_id</option>"
	    "<option>user</option></datalist>\n</div>\n");
}

static void
user_links(struct creq *q, const cJSON *doc)
{
	struct buf *b = &q->out;
	const cJSON *el;
	size_t n = 0;

	ch_raw(b, "<h2>Linked ids</h2>\n");
	ch_table_begin(b, "Provider|Kind|Id|Unlink");
	cJSON_ArrayForEach (el, jarr(doc, "links")) {
		n++;
		buf_puts(b, "<tr>");
		ch_td(b, jstr(el, "provider"));
		ch_td(b, jstr(el, "kind"));
		ch_td_mono(b, jstr(el, "id"));
		buf_puts(b, "<td>");
		ch_form_begin(q, "action", "links.remove", "inline");
		ch_hidden(b, "user", jstr(doc, "user_id"));
		ch_hidden(b, "provider", jstr(el, "provider"));
		ch_hidden(b, "kind", jstr(el, "kind"));
		ch_hidden(b, "ext_id", jstr(el, "id"));
		ch_reason(b);
		ch_form_end(b, "Unlink", "secondary");
		buf_puts(b, "</td></tr>\n");
	}
	ch_table_end(b, n, "No provider id is linked.");
}

void
page_user(struct creq *q)
{
	const char *user = form_get(&q->query, "id");
	struct buf *b = &q->out, doc;
	struct inbox_row *ev = NULL;
	char merged[USER_ID_MAX + 1] = "";
	cJSON *root = NULL;
	struct store *s;
	const char *why;
	int64_t before, created = 0;
	size_t n = 0;
	enum terr rc;

	buf_init(&doc, DOC_MAX);
	before = console_query_int(q, "before", 1, INT64_MAX, 0);
	if (user == NULL || !text_id_valid(user, USER_ID_MAX) || before < 0) {
		console_fail(q, 400, "No such user", "That is not a user id.");
		goto out;
	}
	if ((s = console_reader(q)) == NULL)
		goto out;
	if ((rc = store_user_get(s, user, &created, merged)) == TERR_NOTFOUND) {
		console_fail(q, 404, "No such user", "tally knows no user by that id.");
		goto out;
	}
	if (rc != TERR_OK || (ev = calloc(CONSOLE_LIST_MAX, sizeof(*ev))) == NULL ||
	    report_user_json(s, q->c, user, q->now, &doc) != TERR_OK ||
	    json_parse(doc.p, doc.len, JSON_DEPTH_MAX, &root, &why) != TERR_OK ||
	    store_console_user_events(s, user, before, ev, CONSOLE_LIST_MAX, &n) != TERR_OK) {
		console_storage_failed(q);
		goto out;
	}
	ch_page_begin(q, user);
	ch_raw(b, "<h1>User <span class=\"mono\">");
	ch_text(b, user);
	ch_raw(b, "</span></h1>\n<dl class=\"kv\"><dt>First seen</dt><dd>");
	ch_time(b, created);
	ch_raw(b, "</dd>");
	if (merged[0] != '\0') {
		ch_raw(b, "<dt>Merged into</dt><dd>");
		ch_user_link(b, merged);
		ch_raw(b, "</dd>");
	}
	ch_raw(b, "</dl>\n");
	ch_raw(b, "<h2>Entitlements</h2>\n");
	doc_table(b, jarr(root, "entitlements"), ent_cols, NCOLS(ent_cols), "No entitlements.");
	user_subscriptions(q, root);
	user_balance(b, root);
	user_actions(q, user);
	user_links(q, root);
	ch_raw(b, "<h2>Ledger <span class=\"muted\">(newest 20)</span></h2>\n");
	doc_table(b, jarr(root, "ledger"), ledger_cols, NCOLS(ledger_cols), "No ledger entries.");
	ch_raw(b, "<h2>Audit trail <span class=\"muted\">(newest 20)</span></h2>\n");
	doc_table(b, jarr(root, "audit"), audit_cols, NCOLS(audit_cols), "No audit rows.");
	ch_raw(b, "<h2>Events</h2>\n");
	console_events_table(q, ev, n, 0);
	if (n == CONSOLE_LIST_MAX) {
		ch_raw(b, "<p><a href=\"/admin/user?id=");
		ch_url(b, user);
		buf_printf(b, "&amp;before=%lld\">Older events</a></p>\n", (long long)ev[n - 1].id);
	}
	ch_page_end(q);
	console_send(q, 200);
out:
	cJSON_Delete(root);
	buf_release(&doc);
	free(ev);
}
