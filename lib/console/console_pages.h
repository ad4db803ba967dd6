/*
 * The support console's pages (console_pages.c; prefix page_, one GET route
 * each), for console.c, and the pieces the user page shares.
 */
#ifndef TALLY_CONSOLE_PAGES_H
#define TALLY_CONSOLE_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "console/console_req.h"

/* The thread's read connection, or NULL when the 503 page was sent. */
struct store *console_reader(struct creq *q);
/* The 503 page of a read that failed. */
void console_storage_failed(struct creq *q);
/* An integer query parameter within [min, max]; def when absent; -1 when malformed. */
int64_t console_query_int(struct creq *q, const char *name, int64_t min, int64_t max, int64_t def);
/* A table of events with a replay form where one helps; show_user adds who (or what it waits for). */
void console_events_table(struct creq *q, const struct inbox_row *rows, size_t n, int show_user);

void page_overview(struct creq *q);
void page_search(struct creq *q);
void page_event(struct creq *q);
void page_attention(struct creq *q);
void page_outbox(struct creq *q);
void page_done(struct creq *q);

#endif
