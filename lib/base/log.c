#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/tm.h"

static const char *progname = "tally";
static enum log_level minlevel = LOG_INFO;

static const char *const levels[] = { "debug", "info", "warn", "error" };

void
log_init(const char *prog)
{
	progname = prog;
}

void
log_set_level(enum log_level min)
{
	minlevel = min;
}

void
log_begin(struct logline *l, enum log_level lvl, const char *msg)
{
	char ts[TM_ISO_SIZE];

	l->on = lvl >= minlevel;
	/* Leave room for the closing "}\n" that log_end always writes. */
	buf_init_fixed(&l->b, l->storage, sizeof(l->storage) - 2);
	if (!l->on)
		return;
	tm_iso(tm_now_ms(), ts);
	buf_puts(&l->b, "{\"ts\":\"");
	buf_puts(&l->b, ts);
	buf_puts(&l->b, "\",\"level\":\"");
	buf_puts(&l->b, levels[lvl]);
	buf_puts(&l->b, "\",\"prog\":");
	json_escape(&l->b, progname, strlen(progname));
	buf_puts(&l->b, ",\"msg\":");
	json_escape(&l->b, msg, strlen(msg));
}

void
log_strn(struct logline *l, const char *key, const char *val, size_t n)
{
	if (!l->on || val == NULL)
		return;
	buf_putc(&l->b, ',');
	json_escape(&l->b, key, strlen(key));
	buf_putc(&l->b, ':');
	json_escape(&l->b, val, n);
}

void
log_str(struct logline *l, const char *key, const char *val)
{
	if (val != NULL)
		log_strn(l, key, val, strlen(val));
}

void
log_int(struct logline *l, const char *key, int64_t val)
{
	if (!l->on)
		return;
	buf_putc(&l->b, ',');
	json_escape(&l->b, key, strlen(key));
	buf_printf(&l->b, ":%lld", (long long)val);
}

void
log_end(struct logline *l)
{
	size_t off = 0;
	ssize_t w;

	if (!l->on)
		return;
	if (l->b.err != TERR_OK) {
		/* Truncated: end the line cleanly rather than emit broken JSON. */
		buf_reset(&l->b);
		buf_puts(&l->b, "{\"level\":\"error\",\"msg\":\"log line too long\"");
	}
	/* The two bytes kept back in log_begin. */
	memcpy(l->b.p + l->b.len, "}\n", 2);
	l->b.len += 2;
	while (off < l->b.len) {
		w = write(STDERR_FILENO, l->b.p + off, l->b.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

void
log_msg(enum log_level lvl, const char *msg, const char *err)
{
	struct logline l;

	log_begin(&l, lvl, msg);
	log_str(&l, "error", err);
	log_end(&l);
}
