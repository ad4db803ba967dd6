#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "crypto/crypto.h"
#include "providers/papi.h"

enum terr
papi_do(const struct cfg_http *h, const struct papi_req *q, struct httpc_resp *resp, char *why,
    size_t whysize)
{
	char urlbuf[PAPI_URL_MAX];
	const char *headers[4];
	struct httpc_req req;
	struct buf url;
	size_t blen = strlen(q->base), n = 0;
	enum terr rc;

	while (blen > 0 && q->base[blen - 1] == '/')
		blen--;
	buf_init_fixed(&url, urlbuf, sizeof(urlbuf));
	buf_append(&url, q->base, blen);
	buf_puts(&url, q->path);
	if (url.err != TERR_OK) {
		crypto_wipe(urlbuf, sizeof(urlbuf));
		snprintf(why, whysize, "the URL of the %s request is too long", q->who);
		return TERR_TOOBIG;
	}
	if (q->header != NULL)
		headers[n++] = q->header;
	headers[n++] = "Content-Type: application/json";
	headers[n++] = "Accept: application/json";
	headers[n] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = q->method;
	req.url = buf_cstr(&url);
	req.headers = headers;
	if (q->body != NULL) {
		req.body = buf_cstr(q->body);
		req.body_len = q->body->len;
	}
	req.basic_user = q->basic_user;
	req.basic_pass = q->basic_pass;
	rc = httpc_do(h, &req, resp, why, whysize);
	crypto_wipe(urlbuf, sizeof(urlbuf));
	return rc;
}

enum terr
papi_status(const struct papi_req *q, const struct httpc_resp *resp, const char *detail_path,
    char *why, size_t whysize)
{
	char detail[192] = "";
	cJSON *root = NULL;
	const cJSON *d;
	const char *jwhy;

	if (resp->status == 200)
		return TERR_OK;
	if (json_parse(buf_cstr(&resp->body), resp->body.len, JSON_DEPTH_MAX, &root, &jwhy) ==
		TERR_OK &&
	    (d = jpath(root, detail_path)) != NULL && cJSON_IsString(d))
		snprintf(detail, sizeof(detail), ": %.160s", d->valuestring);
	cJSON_Delete(root);
	snprintf(why, whysize, "%s answered %ld%s", q->who, resp->status, detail);
	switch (resp->status) {
	case 400: return TERR_INVAL;
	case 401:
	case 403: return TERR_AUTH;
	case 404: return TERR_NOTFOUND;
	default: return TERR_IO; /* 429, 5xx: busy or down */
	}
}
