/* The overview's chart (console_chart.c), for console_pages.c. */
#ifndef TALLY_CONSOLE_CHART_H
#define TALLY_CONSOLE_CHART_H

#include "base/buf.h"
#include "store/store_console.h"

/* The overview's chart of s as an inline SVG element. */
void console_chart(struct buf *b, const struct console_stats *s);

#endif
