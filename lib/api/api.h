/*
 * The app-facing API (bin/tally-api): what may this user do, spend some
 * credits, and the purchases and promotions the app starts. Every change is
 * one of tally's own events (op.h, source "app") applied through the same
 * group commit as the webhooks; reads go through the thread's read
 * connection. See docs/api.md for each route, its scope and
 * its answers.
 */
#ifndef TALLY_API_H
#define TALLY_API_H

#include "api/api_req.h" /* API_BODY_MAX, the largest request body the API reads */
#include "serve/handler.h"

/* Once at start: state for api_serve (TERR_CONFIG with why: refuse everything). */
enum terr api_init(void **state, const struct cfg *c, char *why, size_t whysize);
void api_fini(void *state);

/* Answer one request (struct handler.serve). */
void api_serve(void *state, struct svc *s, struct http_req *r);

#endif
