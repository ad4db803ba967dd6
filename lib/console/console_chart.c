/*
 * The overview's chart, drawn on the server as inline SVG (no script, no
 * image request): events received per day with the still-failed part in
 * red, and subscriptions giving access at the end of each day, over the
 * last CONSOLE_DAYS days. Colours come from the stylesheet's classes (the
 * Content-Security-Policy allows no inline style); each day's bar has a
 * <title>, which browsers show on hover. Only numbers and dates are drawn.
 */
#include <stdio.h>
#include <string.h>

#include "base/tm.h"
#include "console/console_chart.h"
#include "console/console_html.h"

#define W      960
#define LEFT   64
#define RIGHT  12
#define TOP1   34 /* events panel */
#define H1     120
#define TOP2   212 /* subscriptions panel */
#define H2     96
#define H      340
#define DAY_MS ((int64_t)86400 * 1000)

/* The smallest of 1, 2, 5 x 10^k at or above v (at least 1): the axis' top. */
static int64_t
nice_max(int64_t v)
{
	int64_t p = 1;

	while (p <= v / 10 && p < INT64_MAX / 10)
		p *= 10;
	if (v <= p)
		return p;
	if (v <= 2 * p)
		return 2 * p;
	if (v <= 5 * p)
		return 5 * p;
	return 10 * p;
}

/* "Nov 22" of the day starting at ms. */
static void
day_label(int64_t ms, char out[16])
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	char iso[TM_ISO_SIZE];
	int m, d;

	tm_iso(ms, iso);
	/* "YYYY-MM-DD..." */
	m = (iso[5] - '0') * 10 + (iso[6] - '0');
	d = (iso[8] - '0') * 10 + (iso[9] - '0');
	if (m < 1 || m > 12)
		m = 1;
	snprintf(out, 16, "%s %d", months[m - 1], d);
}

/* Horizontal grid lines and labels of a panel: 0, half, max. */
static void
axis(struct buf *b, int top, int height, int64_t max)
{
	int k;

	for (k = 0; k <= 2; k++) {
		int y = top + height - k * height / 2;
		if (k == 1 && max < 2)
			continue; /* no half of one */
		buf_printf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		    LEFT, y, W - RIGHT, y);
		buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LEFT - 6, y + 4);
		ch_int(b, max * k / 2);
		buf_puts(b, "</text>");
	}
}

void
console_chart(struct buf *b, const struct console_stats *s)
{
	const double slot = (double)(W - LEFT - RIGHT) / CONSOLE_DAYS;
	int64_t emax = 0, amax = 0;
	char label[16];
	double x, h, hf, y;
	int i;

	for (i = 0; i < CONSOLE_DAYS; i++) {
		if (s->events[i] > emax)
			emax = s->events[i];
		if (s->active[i] > amax)
			amax = s->active[i];
	}
	emax = nice_max(emax);
	amax = nice_max(amax);
	buf_printf(b,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"Events per day and active subscriptions over the last %d days\">\n",
	    W, H, CONSOLE_DAYS);
	buf_printf(b,
	    "<text class=\"h\" x=\"%d\" y=\"18\">Events received per day "
	    "(red: still failed)</text>\n",
	    LEFT);
	axis(b, TOP1, H1, emax);
	for (i = 0; i < CONSOLE_DAYS; i++) {
		x = LEFT + i * slot + slot * 0.15;
		h = (double)s->events[i] * H1 / (double)emax;
		hf = (double)s->failed[i] * H1 / (double)emax;
		if (s->failed[i] > 0 && hf < 1.5)
			hf = 1.5;
		day_label(s->day0 + (int64_t)i * DAY_MS, label);
		buf_printf(b,
		    "<g><title>%s: %lld events, %lld still failed; %lld active "
		    "subscriptions</title>",
		    label, (long long)s->events[i], (long long)s->failed[i],
		    (long long)s->active[i]);
		/* A transparent full-height target, so the hover works on short bars too. */
		buf_printf(b,
		    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		    "fill=\"transparent\"/>",
		    LEFT + i * slot, TOP1, slot, H2 + TOP2 - TOP1);
		if (s->events[i] > 0)
			buf_printf(b,
			    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			    "height=\"%.1f\"/>",
			    x, TOP1 + H1 - h, slot * 0.7, h);
		if (s->failed[i] > 0)
			buf_printf(b,
			    "<rect class=\"bad\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			    "height=\"%.1f\"/>",
			    x, TOP1 + H1 - hf, slot * 0.7, hf);
		buf_puts(b, "</g>\n");
	}
	buf_printf(b, "<text class=\"h\" x=\"%d\" y=\"%d\">Active subscriptions</text>\n", LEFT,
	    TOP2 - 16);
	axis(b, TOP2, H2, amax);
	/* The area under the line, then the line. */
	buf_printf(b, "<polygon class=\"area\" points=\"%.1f,%d", LEFT + slot / 2, TOP2 + H2);
	for (i = 0; i < CONSOLE_DAYS; i++) {
		y = TOP2 + H2 - (double)s->active[i] * H2 / (double)amax;
		buf_printf(b, " %.1f,%.1f", LEFT + i * slot + slot / 2, y);
	}
	buf_printf(b, " %.1f,%d\"/>\n<polyline class=\"line\" points=\"",
	    LEFT + (CONSOLE_DAYS - 1) * slot + slot / 2, TOP2 + H2);
	for (i = 0; i < CONSOLE_DAYS; i++) {
		y = TOP2 + H2 - (double)s->active[i] * H2 / (double)amax;
		buf_printf(b, "%s%.1f,%.1f", i ? " " : "", LEFT + i * slot + slot / 2, y);
	}
	buf_puts(b, "\"/>\n");
	/* Dates under both panels: every 15 days and today. */
	for (i = 0; i < CONSOLE_DAYS; i += 15) {
		day_label(s->day0 + (int64_t)i * DAY_MS, label);
		buf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
		    LEFT + i * slot + slot / 2, H - 8, label);
	}
	buf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\">today</text>\n",
	    (double)(W - RIGHT), H - 8);
	buf_puts(b, "</svg>");
}
