/*
 * HTML for the support console: every value from outside (user ids,
 * product ids, reasons, provider payloads: all attacker-controlled) goes
 * through ch_text, which escapes the five characters that matter in text
 * and in quoted attributes (& < > " ') and replaces control characters and
 * invalid UTF-8 with U+FFFD; values inside URLs are percent-encoded first
 * (ch_url). Markup itself is only ever literal text of this file and the
 * pages'. The page needs no script: the Content-Security-Policy forbids it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "console/console_html.h"
#include "http/httpc.h"

/* --- writers --- */

void
ch_raw(struct buf *b, const char *s)
{
	buf_puts(b, s);
}

/* The length of the UTF-8 sequence at p[0..n) by its first byte, 0 when none can start there. */
static size_t
seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* The entity of a character that is markup in text or in a quoted attribute, or NULL. */
static const char *
html_entity(unsigned char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

/* keep_lines: newlines and tabs stay (a <pre>). */
static void
escape(struct buf *b, const char *s, size_t n, int keep_lines)
{
	const char *entity;
	size_t i = 0, k;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)s[i];
		if ((entity = html_entity(c)) != NULL) {
			buf_puts(b, entity);
			i++;
			continue;
		}
		if ((c < 0x20 && !(keep_lines && (c == '\n' || c == '\t'))) || c == 0x7f) {
			buf_puts(b, "\xef\xbf\xbd");
			i++;
			continue;
		}
		k = seq_len(c);
		if (k == 0 || k > n - i || !text_utf8_valid(s + i, k)) {
			buf_puts(b, "\xef\xbf\xbd");
			i++;
			continue;
		}
		buf_append(b, s + i, k);
		i += k;
	}
}

void
ch_text(struct buf *b, const char *s)
{
	if (s != NULL)
		escape(b, s, strlen(s), 0);
}

void
ch_textn(struct buf *b, const char *s, size_t n)
{
	escape(b, s, n, 0);
}

void
ch_int(struct buf *b, int64_t v)
{
	char digits[32];
	size_t n, i;
	int neg = v < 0;

	snprintf(digits, sizeof(digits), "%llu",
	    neg ? (unsigned long long)-(v + 1) + 1 : (unsigned long long)v);
	n = strlen(digits);
	if (neg)
		buf_putc(b, '-');
	for (i = 0; i < n; i++) {
		/* A narrow no-break space between groups of three (U+202F). */
		if (i > 0 && (n - i) % 3 == 0)
			buf_puts(b, "\xe2\x80\xaf");
		buf_putc(b, digits[i]);
	}
}

void
ch_iso(struct buf *b, const char *iso)
{
	char t[TM_ISO_SIZE];
	char *p;

	if (iso == NULL || iso[0] == '\0') {
		buf_puts(b, "\xe2\x80\x94");
		return;
	}
	if (text_copy(t, sizeof(t), iso) != TERR_OK) {
		ch_text(b, iso);
		return;
	}
	if ((p = strchr(t, 'T')) != NULL)
		*p = ' ';
	/* To the second: "2026-11-22 08:12:45". */
	if ((p = strchr(t, '.')) != NULL || (p = strchr(t, 'Z')) != NULL)
		*p = '\0';
	ch_text(b, t);
}

void
ch_time(struct buf *b, int64_t ms)
{
	char t[TM_ISO_SIZE];

	if (ms == 0) {
		buf_puts(b, "\xe2\x80\x94");
		return;
	}
	tm_iso(ms, t);
	ch_iso(b, t);
}

void
ch_url(struct buf *b, const char *s)
{
	/* Percent-encoding leaves only unreserved characters, none of which HTML treats specially. */
	httpc_escape(b, s);
}

void
ch_badge(struct buf *b, const char *state)
{
	buf_puts(b, "<span class=\"badge s-");
	httpc_escape(b, state);
	buf_puts(b, "\">");
	ch_text(b, state);
	buf_puts(b, "</span>");
}

void
ch_user_link(struct buf *b, const char *user)
{
	if (user == NULL || user[0] == '\0') {
		buf_puts(b, "<span class=\"muted\">none</span>");
		return;
	}
	buf_puts(b, "<a href=\"/admin/user?id=");
	ch_url(b, user);
	buf_puts(b, "\">");
	ch_text(b, user);
	buf_puts(b, "</a>");
}

static void
newline(struct buf *b, int depth)
{
	int i;

	buf_putc(b, '\n');
	for (i = 0; i < depth; i++)
		buf_puts(b, "  ");
}

static int
json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Valid JSON p[0..n) indented, its bytes otherwise exactly as stored (no
 * number is reformatted, no escape undone): whitespace between tokens
 * replaced, strings copied escaped for HTML.
 */
static void
json_indent(struct buf *b, const char *p, size_t n)
{
	size_t i, j, start;
	int depth = 0;
	char c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '"') {
			start = i++;
			for (; i < n && p[i] != '"'; i++)
				if (p[i] == '\\')
					i++;
			escape(b, p + start, (i < n ? i + 1 : n) - start, 0);
			continue;
		}
		if (json_space(c))
			continue;
		switch (c) {
		case '{':
		case '[':
			buf_putc(b, c);
			for (j = i + 1; j < n && json_space(p[j]); j++)
				;
			if (j < n && p[j] == (c == '{' ? '}' : ']')) {
				buf_putc(b, p[j]); /* empty: on one line */
				i = j;
			} else
				newline(b, ++depth);
			break;
		case '}':
		case ']':
			newline(b, --depth);
			buf_putc(b, c);
			break;
		case ',':
			buf_putc(b, c);
			newline(b, depth);
			break;
		case ':': buf_puts(b, ": "); break;
		default: buf_putc(b, c); break;
		}
	}
}

void
ch_body(struct buf *b, const char *p, size_t n)
{
	cJSON *root = NULL;
	const char *why;

	if (json_parse(p, n, JSON_DEPTH_MAX, &root, &why) == TERR_OK) {
		cJSON_Delete(root);
		json_indent(b, p, n);
		return;
	}
	escape(b, p, n, 1);
}

/* --- tables --- */

/* "<div class=scroll><table><tr><th>..": columns split by '|', a leading '#' right-aligns one. */
void
ch_table_begin(struct buf *b, const char *cols)
{
	const char *p = cols, *bar;

	buf_puts(b, "<div class=\"scroll\"><table>\n<tr>");
	while (*p != '\0') {
		bar = strchr(p, '|');
		if (bar == NULL)
			bar = p + strlen(p);
		if (*p == '#') {
			buf_puts(b, "<th class=\"num\">");
			p++;
		} else
			buf_puts(b, "<th>");
		buf_append(b, p, (size_t)(bar - p));
		buf_puts(b, "</th>");
		p = *bar == '|' ? bar + 1 : bar;
	}
	buf_puts(b, "</tr>\n");
}

void
ch_table_end(struct buf *b, size_t rows, const char *none)
{
	buf_puts(b, "</table></div>\n");
	if (rows == 0) {
		buf_puts(b, "<p class=\"muted\">");
		ch_text(b, none);
		buf_puts(b, "</p>\n");
	}
}

void
ch_td(struct buf *b, const char *s)
{
	buf_puts(b, "<td>");
	ch_text(b, s != NULL ? s : "");
	buf_puts(b, "</td>");
}

void
ch_td_mono(struct buf *b, const char *s)
{
	buf_puts(b, "<td class=\"mono\">");
	ch_text(b, s != NULL ? s : "");
	buf_puts(b, "</td>");
}

void
ch_td_int(struct buf *b, int64_t v)
{
	buf_puts(b, "<td class=\"num\">");
	ch_int(b, v);
	buf_puts(b, "</td>");
}

/* An id: digits only, never grouped. */
void
ch_td_id(struct buf *b, int64_t v)
{
	buf_printf(b, "<td class=\"num\">%lld</td>", (long long)v);
}

void
ch_td_time(struct buf *b, int64_t ms)
{
	buf_puts(b, "<td class=\"t\">");
	ch_time(b, ms);
	buf_puts(b, "</td>");
}

void
ch_td_iso(struct buf *b, const char *iso)
{
	buf_puts(b, "<td class=\"t\">");
	ch_iso(b, iso);
	buf_puts(b, "</td>");
}

void
ch_td_badge(struct buf *b, const char *state)
{
	buf_puts(b, "<td>");
	ch_badge(b, state);
	buf_puts(b, "</td>");
}

/* --- the page frame --- */

void
ch_page_begin(struct creq *q, const char *title)
{
	struct buf *b = &q->out;
	const char *sq = form_get(&q->query, "q");

	ch_raw(b,
	    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>");
	ch_text(b, title);
	ch_raw(b,
	    " \xc2\xb7 tally console</title>\n<link rel=\"icon\" href=\"data:,\">\n"
	    "<link rel=\"stylesheet\" href=\"/admin/style.css\">\n</head>\n<body>\n<header>\n"
	    "<a class=\"brand\" href=\"/admin\">tally <span>console</span></a>\n");
	if (q->authed) {
		ch_raw(b,
		    "<nav><a href=\"/admin\">Overview</a><a href=\"/admin/attention\">"
		    "Attention</a><a href=\"/admin/outbox\">Outbox</a></nav>\n"
		    "<form class=\"search\" method=\"get\" action=\"/admin/search\" "
		    "role=\"search\"><input type=\"search\" name=\"q\" aria-label=\"Search\" "
		    "placeholder=\"User id, customer, transaction, subscription or event id\" "
		    "value=\"");
		ch_text(b, strcmp(q->path, "/search") == 0 && sq != NULL ? sq : "");
		ch_raw(b, "\"><button type=\"submit\">Search</button></form>\n<div class=\"who\">");
		ch_text(b, console_admin(q));
		ch_raw(b, " <form method=\"post\" action=\"/admin/logout\" class=\"inline\">");
		ch_hidden(b, "csrf", q->sess.csrf);
		ch_raw(b,
		    "<button type=\"submit\" class=\"secondary\">Log out</button></form></div>\n");
	}
	ch_raw(b, "</header>\n<main>\n");
}

void
ch_page_end(struct creq *q)
{
	ch_raw(&q->out, "</main>\n</body>\n</html>\n");
}

void
ch_hidden(struct buf *b, const char *name, const char *value)
{
	buf_puts(b, "<input type=\"hidden\" name=\"");
	ch_text(b, name);
	buf_puts(b, "\" value=\"");
	ch_text(b, value);
	buf_puts(b, "\">");
}

void
ch_hidden_int(struct buf *b, const char *name, int64_t value)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", (long long)value);
	ch_hidden(b, name, v);
}

void
ch_form_begin(struct creq *q, const char *action, const char *do_, const char *cls)
{
	struct buf *b = &q->out;
	unsigned char rnd[NONCE_HEX_LEN / 2];
	char nonce[NONCE_HEX_LEN + 1];

	buf_puts(b, "<form method=\"post\" action=\"/admin/");
	ch_text(b, action);
	buf_puts(b, "\" class=\"");
	ch_text(b, cls);
	buf_puts(b, "\">");
	ch_hidden(b, "csrf", q->sess.csrf);
	if (do_ == NULL)
		return;
	ch_hidden(b, "do", do_);
	/* The event id of what the form does: submitted twice, it is done once (inbox dedup). */
	if (crypto_random_bytes(rnd, sizeof(rnd)) == TERR_OK) {
		text_hex(rnd, sizeof(rnd), nonce);
		ch_hidden(b, "nonce", nonce);
	}
}

void
ch_form_end(struct buf *b, const char *button, const char *cls)
{
	buf_puts(b, "<button type=\"submit\"");
	if (cls != NULL) {
		buf_puts(b, " class=\"");
		ch_text(b, cls);
		buf_puts(b, "\"");
	}
	buf_puts(b, ">");
	ch_text(b, button);
	buf_puts(b, "</button></form>");
}

void
ch_reason(struct buf *b)
{
	buf_puts(b,
	    "<input name=\"reason\" placeholder=\"Reason (required)\" aria-label=\"Reason\" "
	    "required maxlength=\"500\">");
}

/* --- the stylesheet: small, no web fonts, readable from a phone to a laptop --- */

const char console_css[] =
    ":root{--fg:#1d2430;--muted:#5b6575;--line:#dde2ea;--bg:#f5f6f8;--card:#fff;"
    "--accent:#2456c9;--bad:#b42318;--ok:#067647;--warn:#a15c07}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\","
    "sans-serif;color:var(--fg);background:var(--bg)}\n"
    "a{color:var(--accent)}\n"
    "a.card{color:inherit;text-decoration:none}\na.card:hover{border-color:var(--accent)}\n"
    "header{background:#17202f;color:#e8ecf3;display:flex;flex-wrap:wrap;gap:.5rem 1.2rem;"
    "align-items:center;padding:.6rem 1rem}\n"
    "header a{color:#e8ecf3;text-decoration:none}\nheader a:hover{text-decoration:underline}\n"
    ".brand{font-weight:700;font-size:1.05rem}\n.brand span{font-weight:400;opacity:.7}\n"
    "nav{display:flex;gap:1rem;flex-wrap:wrap}\n"
    "form.search{flex:1;min-width:14rem;display:flex;gap:.4rem}\n"
    "form.search input{flex:1;min-width:0}\n"
    ".who{display:flex;gap:.5rem;align-items:center;font-size:.9rem}\n"
    "main{max-width:76rem;margin:0 auto;padding:1rem 1rem 3rem}\n"
    "h1{font-size:1.4rem;margin:.3rem 0 1rem;word-break:break-all}\n"
    "h2{font-size:1.05rem;margin:1.8rem 0 .6rem}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.75rem}\n"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:8px;"
    "padding:.7rem 1rem}\n"
    ".card .n{font-size:1.5rem;font-weight:650;font-variant-numeric:tabular-nums}\n"
    ".card .l{color:var(--muted);font-size:.85rem}\n"
    ".scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);"
    "border-radius:8px}\n"
    "table{border-collapse:collapse;width:100%;font-size:.9rem}\n"
    "th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);"
    "vertical-align:top}\n"
    "tr:last-child td{border-bottom:0}\n"
    "th{background:#eef1f5;font-weight:600;white-space:nowrap}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.t{white-space:nowrap}\n"
    "code,pre,.mono{font-family:ui-monospace,\"DejaVu Sans Mono\",Menlo,Consolas,monospace;"
    "font-size:.85rem;overflow-wrap:anywhere}\n"
    "td.mono{min-width:11rem}\n"
    "pre{background:#101726;color:#e6e9ef;padding:1rem;border-radius:8px;overflow:auto;"
    "max-height:36rem;white-space:pre-wrap}\n"
    ".badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.78rem;"
    "background:#eef1f5;white-space:nowrap}\n"
    ".s-active,.s-applied,.s-trialing,.s-sent,.s-yes{background:#dcfae6;color:var(--ok)}\n"
    ".s-failed,.s-revoked,.s-refunded,.s-dead,.s-expired{background:#fee4e2;color:var(--bad)}\n"
    ".s-orphaned,.s-unknown_product,.s-past_due,.s-canceled,.s-paused,.s-pending,"
    ".s-incomplete{background:#fef0c7;color:var(--warn)}\n"
    "form{margin:0}\n"
    "form.inline{display:flex;flex-wrap:wrap;gap:.35rem;align-items:center}\n"
    "form.inline input[name=reason]{min-width:9rem;flex:1}\n"
    "td form.inline input[name=reason]{width:8rem;min-width:0;flex:1}\n"
    "form.box{background:var(--card);border:1px solid var(--line);border-radius:8px;"
    "padding:.8rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;"
    "align-content:flex-start}\n"
    "form.box label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted);"
    "gap:.15rem;flex:1;min-width:8rem}\n"
    "form.box label input,form.box label select{width:100%}\n"
    ".login form.box{flex-direction:column;flex-wrap:nowrap;align-items:stretch}\n"
    ".forms{display:grid;grid-template-columns:repeat(auto-fit,minmax(21rem,1fr));gap:.75rem}\n"
    ".forms h3{font-size:.95rem;margin:0 0 .3rem;width:100%}\n"
    "input,select,button{font:inherit;padding:.35rem .55rem;border:1px solid #c2c9d6;"
    "border-radius:6px;background:#fff;color:var(--fg)}\n"
    "button{background:var(--accent);border-color:var(--accent);color:#fff;cursor:pointer}\n"
    "button.secondary{background:transparent;color:inherit;border-color:#8a94a6}\n"
    "button.danger{background:var(--bad);border-color:var(--bad)}\n"
    ".msg{padding:.6rem .9rem;border-radius:8px;margin:0 0 1rem;border:1px solid}\n"
    ".msg.ok{background:#ecfdf3;border-color:#abefc6}\n"
    ".msg.bad{background:#fef3f2;border-color:#fecdca}\n"
    ".muted{color:var(--muted)}\n"
    ".kv{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}\n"
    ".kv dt{color:var(--muted)}\n.kv dd{margin:0;word-break:break-all}\n"
    ".chart{background:var(--card);border:1px solid var(--line);border-radius:8px;"
    "padding:.5rem .75rem}\n"
    ".chart svg{width:100%;height:auto;display:block}\n"
    "svg .bar{fill:#8eaef0}\nsvg .bad{fill:#e5484d}\n"
    "svg .line{fill:none;stroke:#067647;stroke-width:2}\nsvg .area{fill:#dcfae6}\n"
    "svg .grid{stroke:#e3e7ee;stroke-width:1}\n"
    "svg text{font-size:12px;fill:#5b6575;font-family:system-ui,\"DejaVu Sans\",sans-serif}\n"
    "svg text.h{font-size:13px;font-weight:600;fill:#1d2430}\n"
    ".tabs{display:flex;gap:.5rem;flex-wrap:wrap;margin:0 0 1rem}\n"
    ".tabs a{padding:.3rem .8rem;border-radius:999px;border:1px solid var(--line);"
    "background:var(--card);text-decoration:none}\n"
    ".tabs a.on{background:var(--accent);color:#fff;border-color:var(--accent)}\n"
    ".login{max-width:26rem;margin:8vh auto}\n"
    "@media (max-width:40rem){main{padding:.6rem .6rem 2rem}th,td{padding:.35rem .45rem}"
    "header{padding:.5rem .6rem}h1{font-size:1.2rem}.who{width:100%;"
    "justify-content:space-between}}\n";
