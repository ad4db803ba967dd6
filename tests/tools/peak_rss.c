/*
 * Test tool: run a command and report the peak resident set size of it (and
 * of its children it waited for), as the kernel counted it (wait4(2),
 * getrusage(2) ru_maxrss, in KiB on Linux).
 *   peak_rss CMD [ARG...]
 * The command inherits stdin, stdout and stderr; once it has ended the tool
 * writes "peak_rss_kb <n>" as the last line on stderr and exits with the
 * command's status (128 + the signal when it was killed, 2 on a usage error
 * or when it cannot be started).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage ru;
	pid_t pid;
	int st;

	if (argc < 2) {
		fprintf(stderr, "usage: peak_rss CMD [ARG...]\n");
		return 2;
	}
	if ((pid = fork()) < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		execv(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("wait4");
			return 2;
		}
	fprintf(stderr, "peak_rss_kb %ld\n", ru.ru_maxrss);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
