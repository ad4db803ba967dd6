/*
 * Test tool for the deploy tests: a FastCGI responder listening on every
 * SOCKET given (one thread each) that answers each request with what the web
 * server sent it, so a test can see through a real server which socket a
 * location reaches and which CGI parameters arrive (HTTP_PROXY blanked,
 * REQUEST_METHOD, CONTENT_LENGTH ...):
 *   {"socket":"<file name without .sock>","params":{"NAME":"value",...},"body_bytes":N}
 * Usage: fcgi_echo SOCKET... (at most 16). Runs until killed.
 * With no SOCKET, it serves the listening socket on fd 0, as a FastCGI
 * server that starts it passes one (mod_fcgid): "socket" is then its own
 * program name, so a test can link it as bin/tally-NAME.
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/json.h"

#define SOCKETS_MAX 16

struct listener {
	int fd;
	char name[64];
};

static void
answer(FCGX_Request *req, const char *name)
{
	char chunk[8192], head[128];
	struct buf b;
	struct jw w;
	char **e;
	long long n = 0;
	int k;

	while ((k = FCGX_GetStr(chunk, (int)sizeof(chunk), req->in)) > 0)
		n += k;
	buf_init(&b, 1024 * 1024);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "socket", name);
	jw_key(&w, "params");
	jw_obj(&w);
	for (e = req->envp; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		char key[256];
		size_t kl;
		if (eq == NULL || (kl = (size_t)(eq - *e)) >= sizeof(key))
			continue;
		memcpy(key, *e, kl);
		key[kl] = '\0';
		jw_kstr(&w, key, eq + 1);
	}
	jw_end(&w);
	jw_kint(&w, "body_bytes", n);
	jw_end(&w);
	/* snprintf, not FCGX_FPrintF: libfcgi's own formatter knows no %zu. */
	k = snprintf(head, sizeof(head),
	    "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    b.len);
	FCGX_PutStr(head, k, req->out);
	FCGX_PutStr(buf_cstr(&b), (int)b.len, req->out);
	buf_release(&b);
}

static void *
serve(void *arg)
{
	struct listener *l = arg;
	FCGX_Request req;

	FCGX_InitRequest(&req, l->fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		answer(&req, l->name);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static struct listener ls[SOCKETS_MAX];
	pthread_t t[SOCKETS_MAX];
	int i, n = argc - 1;

	if (n > SOCKETS_MAX) {
		fprintf(stderr, "usage: fcgi_echo [SOCKET...] (at most %d)\n", SOCKETS_MAX);
		return 2;
	}
	FCGX_Init();
	/* libfcgi turns SIGTERM into "shutdown pending"; the tests stop us by PID. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (n == 0) {
		const char *base = strrchr(argv[0], '/');
		if (FCGX_IsCGI()) {
			fprintf(stderr, "fcgi_echo: no SOCKET and fd 0 is not a FastCGI socket\n");
			return 2;
		}
		ls[0].fd = 0;
		snprintf(ls[0].name, sizeof(ls[0].name), "%s", base != NULL ? base + 1 : argv[0]);
		serve(&ls[0]);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const char *base = strrchr(argv[i + 1], '/');
		size_t len;
		base = base != NULL ? base + 1 : argv[i + 1];
		len = strlen(base);
		if (len > 5 && strcmp(base + len - 5, ".sock") == 0)
			len -= 5;
		if (len >= sizeof(ls[i].name))
			len = sizeof(ls[i].name) - 1;
		memcpy(ls[i].name, base, len);
		ls[i].name[len] = '\0';
		unlink(argv[i + 1]);
		if ((ls[i].fd = FCGX_OpenSocket(argv[i + 1], 128)) < 0) {
			fprintf(stderr, "fcgi_echo: cannot listen on %s\n", argv[i + 1]);
			return 1;
		}
		/* As tally's handlers do (--listen): the web server's group only. */
		chmod(argv[i + 1], 0660);
	}
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, serve, &ls[i]) != 0)
			return 1;
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
