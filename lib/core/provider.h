/*
 * The provider table: one row per provider, all that tally does differently
 * from one provider to the next outside the provider's own folder. Its
 * parser turns a stored event into a struct bev again (replay, orphan
 * resolution, rebuild) without its handler; its webhook columns tell the
 * accept loop (lib/serve/handler.c) how a request is verified, parsed and
 * refused. Adding a provider is one row here and one folder under
 * lib/providers/ with its wire format and its hook functions (hook.h).
 *
 * A body in the inbox was verified when it arrived; it is parsed here, not
 * verified again, with one exception: the App Store status envelope that
 * reconciliation stores (appstore.h) carries Apple's signed JWS, and its
 * parser verifies them each time, at their own signedDate.
 *
 * tally's own events (op.h: operator, app, job) have no row: they are not
 * a provider's, and every function below answers for them as noted.
 */
#ifndef TALLY_PROVIDER_H
#define TALLY_PROVIDER_H

#include <stddef.h>

#include "base/err.h"
#include "base/event.h"
#include "cfg/cfg.h"
#include "providers/hook.h"

/* A webhook's answer to a request it refuses: the HTTP status and the JSON error's code. */
struct provider_refusal {
	int status;
	const char *code;
};

struct provider {
	const char *name; /* the events' provider, the inbox's: "stripe", "apple" */
	/*
	 * Map a body into e (bev_init'ed there; e->raw points into body):
	 * parse, or parse_id for a provider that sends the event id beside the
	 * body (id_header), given NULL for a stored body (the inbox row keeps
	 * the id). Exactly one of them is set.
	 */
	enum terr (*parse)(const struct cfg *c, const char *body, size_t n, struct bev *e,
	    char *why, size_t whysize);
	enum terr (*parse_id)(const struct cfg *c, const char *id, const char *body, size_t n,
	    struct bev *e, char *why, size_t whysize);
	/*
	 * The setting that accepts its test events ("stripe.test_mode"), and
	 * where that int is in struct cfg; NULL: its events are always live.
	 */
	const char *test_key;
	size_t test_flag;
	const char *ref_noun; /* what it calls an order made there (provider_ref_noun) */

	/* The webhook: the request's headers the row's functions read. */
	const char *sig_header; /* the signature or token; NULL: the body signs itself */
	const char *id_header;  /* the event id, required (400 without it); NULL: none */
	/*
	 * hook.h: the provider folder's <name>_hook_init, _fini, _verify, and a
	 * classify. NULL where they call out: the endpoint's handler names them
	 * (struct hook_calls), so that the table does not link them everywhere.
	 */
	enum terr (*init)(void **state, const struct cfg *c, char *why, size_t whysize);
	void (*fini)(void *state);
	enum terr (
	    *verify)(void *state, const struct cfg *c, const struct hook_req *q, const char **why);
	/* NULL: every verified request is an event; else what an update is (hook.h). */
	enum terr (*classify)(const char *body, size_t n, struct hook_update *u, char *why,
	    size_t whysize);
	/*
	 * NULL, or, for a provider whose request is not the event to store but
	 * names what to read (Google Play: a push names a purchase, read from
	 * its API), the id the request's event will be stored under, from the
	 * verified body (never failing). An event stored under it already is
	 * answered 200 duplicate, found through the request's read connection,
	 * before the endpoint's prepare (hook.h struct hook_calls) runs.
	 */
	void (*event_id)(const char *body, size_t n, char *id, size_t idsize);
	/* verify's error -> the answer; an error without an entry gets refuse_else. */
	struct provider_refusal refuse[TERR__MAX];
	struct provider_refusal refuse_else;
	/*
	 * The code of a body that verified but cannot be read (400). A provider
	 * that resends anything but a 2xx until it gives up (Pub/Sub) parses such
	 * a body into an event with bev.refusal instead: stored failed with the
	 * reason, alerted, answered 200 (invariant 1).
	 */
	const char *malformed;
};

/* The row of provider, NULL when there is none (tally's own sources among them). */
const struct provider *provider_find(const char *name);

/*
 * Parse body[0..n) of provider into e (bev_init'ed here; e->raw points into
 * body, which must outlive e). TERR_INVAL with why when it cannot be parsed,
 * TERR_NOTFOUND when no parser is known for provider. tally's own sources
 * are parsed by op_parse.
 */
enum terr provider_parse(const struct cfg *c, const char *provider, const char *body, size_t n,
    struct bev *e, char *why, size_t whysize);

/* 1 if events of provider in test/sandbox mode are accepted by the configuration (tally's own: 1). */
int provider_test_allowed(const struct cfg *c, const char *provider);
/* The config key that provider_test_allowed reads ("stripe.test_mode"), or "" for none. */
const char *provider_test_setting(const char *provider);

/*
 * What provider calls the id of an order made there (the provider_ref of an
 * order: a Razorpay "order", a CryptoBot "invoice"; "ref" for the others), so
 * that a stored reason names it in the provider's own words. Never NULL.
 */
const char *provider_ref_noun(const char *provider);

#endif
