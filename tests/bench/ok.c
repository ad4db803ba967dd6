/*
 * The transport ceiling of the benchmark: a libfcgi responder that reads
 * the request body and answers {"ok":true}, with the same threads and
 * kept-alive connections as tally's handlers, and nothing else. Built by
 * tests/bench/run.sh only. Usage: ok SOCKET_PATH [THREADS]
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static int listen_fd;

static void *
worker(void *arg)
{
	FCGX_Request req;
	char buf[8192];
	int fd = -1;
	static const char reply[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
				    "Content-Length: 12\r\n\r\n{\"ok\":true}\n";

	(void)arg;
	FCGX_InitRequest(&req, listen_fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		if (req.ipcFd != fd) {
			struct timeval tv = { 2, 0 };
			setsockopt(req.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			fd = req.ipcFd;
		}
		while (FCGX_GetStr(buf, sizeof(buf), req.in) > 0)
			;
		FCGX_PutStr(reply, (int)sizeof(reply) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[256];
	int i, n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 32;

	if (argc < 2 || n < 1 || n > 256) {
		fprintf(stderr, "usage: ok SOCKET_PATH [THREADS]\n");
		return 2;
	}
	FCGX_Init();
	/* libfcgi turns SIGTERM into "shutdown pending"; the benchmark stops us by PID. */
	signal(SIGTERM, SIG_DFL);
	unlink(argv[1]);
	if ((listen_fd = FCGX_OpenSocket(argv[1], 1024)) < 0)
		return 1;
	chmod(argv[1], 0660);
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
