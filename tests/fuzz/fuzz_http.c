/*
 * The request layer in CGI mode (RFC 3875): meta-variables and a body on
 * stdin. Input: METHOD \n PATH \n CONTENT_LENGTH \n header lines ("Name:
 * value") \n \n body. The body goes through a pipe on fd 0.
 */
#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"
#include "http/http.h"

#define BODY_FUZZ_MAX 60000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of *p (cut at '\n'), or NULL. */
static char *
line(char **p)
{
	char *s = *p, *nl;

	if (s == NULL)
		return NULL;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else
		*p = NULL;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *names[16];
	char *text = fuzz_text(data, size), *p = text, *m, *path, *len, *h, name[96], out[256];
	struct http_req r;
	size_t nnames = 0, i, blen;
	int fds[2];

	m = line(&p);
	path = line(&p);
	len = line(&p);
	if (m == NULL || path == NULL || len == NULL) {
		free(text);
		return 0;
	}
	setenv("REQUEST_METHOD", m, 1);
	setenv("DOCUMENT_URI", path, 1);
	setenv("CONTENT_LENGTH", len, 1);
	while ((h = line(&p)) != NULL && *h != '\0' && nnames < 16) {
		char *colon = strchr(h, ':');
		size_t k = 0;
		if (colon == NULL || colon == h)
			continue;
		*colon = '\0';
		k = (size_t)snprintf(name, sizeof(name), "HTTP_");
		for (i = 0; h[i] != '\0' && k + 1 < sizeof(name); i++)
			name[k++] = h[i] == '-' ? '_' : (h[i] >= 'a' && h[i] <= 'z') ? (char)(h[i] - 32) : h[i];
		name[k] = '\0';
		setenv(name, colon[1] == ' ' ? colon + 2 : colon + 1, 1);
		names[nnames++] = strdup(name);
	}
	blen = p != NULL ? strlen(p) : 0;
	if (blen > BODY_FUZZ_MAX)
		blen = BODY_FUZZ_MAX;
	if (pipe(fds) == 0) {
		if (blen > 0 && write(fds[1], p, blen) < 0)
			blen = 0;
		close(fds[1]);
		dup2(fds[0], 0);
		close(fds[0]);
		memset(&r, 0, sizeof(r));
		http_req_init(&r, NULL, 1024 * 1024);
		(void)http_read_body(&r, 1024 * 1024);
		(void)http_header(&r, "Stripe-Signature");
		(void)http_header(&r, "Authorization");
		(void)http_method(&r);
		http_path(&r, out, sizeof(out));
		http_req_release(&r);
	}
	for (i = 0; i < nnames; i++) {
		unsetenv(names[i]);
		free(names[i]);
	}
	free(text);
	return 0;
}
