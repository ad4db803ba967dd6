/*
 * HTML of the support console (console_html.c): the writers every page
 * uses (prefix ch_, escaped), the page frame, and the stylesheet.
 */
#ifndef TALLY_CONSOLE_HTML_H
#define TALLY_CONSOLE_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "console/console_req.h"

/* Trusted markup, as is. */
void ch_raw(struct buf *b, const char *s);
/* Text from anywhere: & < > " ' escaped, control characters and invalid UTF-8 as U+FFFD. */
void ch_text(struct buf *b, const char *s);
void ch_textn(struct buf *b, const char *s, size_t n);
/* An integer with thin spaces between thousands. */
void ch_int(struct buf *b, int64_t v);
/* A time as "2026-11-22 08:12:45" (UTC), or an em dash for 0. */
void ch_time(struct buf *b, int64_t ms);
/* An RFC 3339 string of the user document the same way (NULL: an em dash). */
void ch_iso(struct buf *b, const char *iso);
/* s percent-encoded, for a query string value inside an attribute. */
void ch_url(struct buf *b, const char *s);
/* A state as a coloured badge. */
void ch_badge(struct buf *b, const char *state);
/* A link to the user page of user. */
void ch_user_link(struct buf *b, const char *user);
/* JSON text p[0..n) (valid) indented two spaces a level, escaped; other text escaped as is. */
void ch_body(struct buf *b, const char *p, size_t n);
/*
 * Tables: ch_table_begin's columns are split by '|', a leading '#'
 * right-aligns one (numbers); ch_table_end says none when there were no rows.
 */
void ch_table_begin(struct buf *b, const char *cols);
void ch_table_end(struct buf *b, size_t rows, const char *none);
/* Cells: text, an id in a fixed-width font, a grouped number, an id, a time, a badge. */
void ch_td(struct buf *b, const char *s);
void ch_td_mono(struct buf *b, const char *s);
void ch_td_int(struct buf *b, int64_t v);
void ch_td_id(struct buf *b, int64_t v);
void ch_td_time(struct buf *b, int64_t ms);
void ch_td_iso(struct buf *b, const char *iso);
void ch_td_badge(struct buf *b, const char *state);
/* The page around the content: head, the header with navigation (when logged in), main. */
void ch_page_begin(struct creq *q, const char *title);
void ch_page_end(struct creq *q);
/*
 * A form that POSTs action (a path under /admin) with the session's CSRF
 * token; op forms (do != NULL) also carry the action's name and a fresh
 * nonce. Close with ch_form_end.
 */
void ch_form_begin(struct creq *q, const char *action, const char *do_, const char *cls);
void ch_form_end(struct buf *b, const char *button, const char *cls);
void ch_hidden(struct buf *b, const char *name, const char *value);
void ch_hidden_int(struct buf *b, const char *name, int64_t value);
/* A required one-line reason field. */
void ch_reason(struct buf *b);
/* The stylesheet (GET /admin/style.css). */
extern const char console_css[];

#endif
