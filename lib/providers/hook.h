/*
 * What every provider's webhook offers the accept loop (prefix hook_). The
 * provider table (core/provider.h) names, in each provider's row, the
 * functions of the provider's folder that take these types:
 *
 *	<name>_hook_init    prepare the verifier (the webhook's state) once at start
 *	<name>_hook_fini    free it
 *	<name>_hook_verify  authenticate one request (struct hook_req)
 *	<name>_classify     only for a provider whose updates are not all billing
 *	                    events (Telegram): what an update is (struct hook_update)
 *
 * (or, when they call out, the endpoint's handler names them: struct
 * hook_calls) and lib/serve/handler.c runs them for every request: verify,
 * classify or prepare, parse, apply, answer. Nothing here knows HTTP beyond the header values the
 * accept loop hands over.
 */
#ifndef TALLY_HOOK_H
#define TALLY_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/tally_limits.h"
#include "cfg/cfg_types.h"

/* One request as the accept loop read it. */
struct hook_req {
	const char
	    *sig; /* the value of the row's sig_header; NULL when absent or the row has none */
	const char *body; /* the raw body, exactly as received (verified over these bytes) */
	size_t n;
	int64_t now; /* ms */
};

enum hook_kind {
	HOOK_EVENT,    /* a billing event: parsed, stored, applied */
	HOOK_PRECHECK, /* the provider asks whether an order may be paid: answered, not stored */
	HOOK_OTHER,    /* anything else (a bot's chat message): acknowledged, not stored */
};

/* A provider's question before it takes the money (Telegram's pre_checkout_query). */
struct hook_precheck {
	char id[ID_MAX];    /* the provider's id of the question, for its answer */
	char from[24];      /* who pays, the provider's user id */
	char order[ID_MAX]; /* tally's order id, as the provider carried it */
	char currency[16];
	int64_t amount; /* in the currency's smallest unit */
};

/* What a verified update is. */
struct hook_update {
	enum hook_kind kind;
	char id[ID_MAX];        /* for the request's log line when not stored ("update:7") */
	char what[64];          /* its kind in the provider's words ("pre_checkout_query") */
	struct hook_precheck q; /* HOOK_PRECHECK */
};

/*
 * A webhook's functions that call out to the provider (Google Play's verify
 * fetches Google's keys, its prepare reads the purchase a push names): named
 * by the endpoint's handler (serve/handler.h, .calls) instead of its row of
 * the provider table, so that only that endpoint links libcurl (the table is
 * in every executable). Each one set takes the place of the row's:
 *	init, fini, verify  as the row's (core/provider.h)
 *	prepare             after verify, the body to store and parse, made
 *	                    from the verified request q into out (the row's
 *	                    event_id says the id it will be stored under: id);
 *	                    an error (why) answers 503 and stores nothing
 */
struct hook_calls {
	enum terr (*init)(void **state, const struct cfg *c, char *why, size_t whysize);
	void (*fini)(void *state);
	enum terr (
	    *verify)(void *state, const struct cfg *c, const struct hook_req *q, const char **why);
	enum terr (*prepare)(void *state, const struct cfg *c, const struct hook_req *q,
	    const char *id, struct buf *out, char *why, size_t whysize);
};

/*
 * The end of a provider's hook init, one rule for all: rc is what preparing
 * its keys returned (not TERR_OK: the start fails, why says it); have says
 * whether anything to verify with is configured (0: TERR_CONFIG with why
 * "<env> is not set", and every request is refused 503; invariant 6).
 */
enum terr hook_ready(enum terr rc, int have, const char *env, char *why, size_t whysize);

#endif
