/*
 * papi: provider API. One JSON request to a direct provider's API (Razorpay, Telegram's Bot API,
 * Crypto Pay) over httpc, and what its answer means: the parts those
 * clients share. The URL may carry a secret (Telegram's bot token is part of
 * it): it is wiped after use and never put into why.
 */
#ifndef TALLY_PAPI_H
#define TALLY_PAPI_H

#include <stddef.h>

#include "base/buf.h"
#include "cfg/cfg.h"
#include "http/httpc.h"

/* The longest URL: a base, a token, a method or an escaped id. */
#define PAPI_URL_MAX (URL_MAX + SECRET_MAX + 3 * ID_MAX)

struct papi_req {
	const char *who;        /* "Razorpay", "Telegram", "Crypto Pay": for messages */
	const char *base;       /* the configured API base; trailing '/' ignored */
	const char *path;       /* appended to base as given (the caller escapes ids) */
	const char *method;     /* "GET", "POST" */
	const struct buf *body; /* JSON, or NULL */
	const char *header;     /* one more header line (authentication), or NULL */
	const char *basic_user, *basic_pass; /* HTTP Basic, or NULL */
};

/*
 * Send q (Content-Type and Accept application/json) into resp, which the
 * caller has httpc_resp_init'ed. TERR_OK when an answer arrived, whatever its
 * status; TERR_IO (no answer: connect, timeout), TERR_TOOBIG (the URL or the
 * answer), TERR_NOMEM, each with why.
 */
enum terr papi_do(const struct cfg_http *h, const struct papi_req *q, struct httpc_resp *resp,
    char *why, size_t whysize);

/*
 * What status means: TERR_OK for 200; TERR_INVAL for 400 (the provider
 * refused the request); TERR_AUTH for 401 and 403 (tally's credentials);
 * TERR_NOTFOUND for 404; TERR_IO for anything else (429, 5xx: retry later).
 * Unless TERR_OK, why is "<who> answered <status>[: <detail>]", detail the
 * string at the dotted path of the answer's JSON ("error.description").
 */
enum terr papi_status(const struct papi_req *q, const struct httpc_resp *resp,
    const char *detail_path, char *why, size_t whysize);

#endif
