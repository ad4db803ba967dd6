/*
 * Logs: one JSON object per line on stderr (STYLE.md 13), written with one
 * write(2) so lines from threads and processes never interleave. Strings are
 * JSON-escaped, so control characters from outside cannot forge lines.
 * Never log a secret, a signature or a full token: callers pass ids only.
 *
 *	struct logline l;
 *	log_begin(&l, LOG_WARN, "signature rejected");
 *	log_str(&l, "provider", "stripe");
 *	log_int(&l, "status", 401);
 *	log_end(&l);
 */
#ifndef TALLY_LOG_H
#define TALLY_LOG_H

#include <stdint.h>

#include "base/buf.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#define LOG_LINE_MAX 4096

struct logline {
	struct buf b;
	char storage[LOG_LINE_MAX];
	int on;
};

/* Program name put on every line; level below which lines are dropped (TALLY_LOG_LEVEL). */
void log_init(const char *prog);
void log_set_level(enum log_level min);

void log_begin(struct logline *l, enum log_level lvl, const char *msg);
void log_str(struct logline *l, const char *key, const char *val);
void log_strn(struct logline *l, const char *key, const char *val, size_t n);
void log_int(struct logline *l, const char *key, int64_t val);
void log_end(struct logline *l);

/* Shorthand for a line with a message and an optional "error" string. */
void log_msg(enum log_level lvl, const char *msg, const char *err);

#endif
