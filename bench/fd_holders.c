// SPDX-License-Identifier: GPL-2.0
/*
 * fd_holders - a host full of open file descriptors, for timing cidtrace's periodic fd scan.
 *
 *   fd_holders [-n PROCS] [-f FDS] [-r READY_FILE]
 *
 * Without the precise hooks, cidtrace finds userfaultfd contexts with a BPF task_file
 * iterator that visits every open file of every task, once a second. Its cost grows with the
 * number of fds on the machine, not with the number of uffds: a CI host running many builds
 * and VMs has hundreds of thousands. This forks PROCS children (default 2000), each holding
 * FDS extra fds (default 50, dups of /dev/null), so a scan has PROCS * FDS more files to walk.
 *
 * Once every child has opened its fds, READY_FILE is created and "fd_holders: procs=N fds=M"
 * is printed. Then everything waits until killed. Children die with the parent
 * (PR_SET_PDEATHSIG), so SIGKILL to the parent alone cleans up; SIGTERM or SIGINT to the
 * parent kills and reaps the children first, then exits 0.
 *
 * Exit status: 0 fine, 1 error (one line on stderr), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "fd_holders: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_stop(int sig)
{
	stop = sig;
}

static void __attribute__((noreturn)) child(pid_t parent, int null_fd, int ready_w, int fds)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	for (int i = 0; i < fds; i++)
		if (dup(null_fd) < 0)
			_exit(1);
	/* one byte per ready child; EOF once every child has closed its copy of the pipe */
	if (write(ready_w, "r", 1) != 1)
		_exit(1);
	close(ready_w);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	const char *ready = NULL;
	int procs = 2000, fds = 50, opt, null_fd, pfd[2], n = 0, nready = 0;
	struct sigaction sa = { .sa_handler = on_stop };
	pid_t self = getpid(), *kids;
	char buf[256];
	ssize_t r;

	while ((opt = getopt(argc, argv, "n:f:r:")) != -1) {
		switch (opt) {
		case 'n':
			procs = atoi(optarg);
			break;
		case 'f':
			fds = atoi(optarg);
			break;
		case 'r':
			ready = optarg;
			break;
		default:
			procs = 0;
		}
	}
	if (procs <= 0 || fds <= 0) {
		fprintf(stderr, "usage: fd_holders [-n PROCS] [-f FDS] [-r READY_FILE]\n");
		return 2;
	}
	kids = calloc(procs, sizeof(*kids));
	null_fd = open("/dev/null", O_RDONLY);
	if (!kids || null_fd < 0 || pipe(pfd))
		die("set-up");
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	for (; n < procs && !stop; n++) {
		kids[n] = fork();
		if (kids[n] < 0)
			break;
		if (!kids[n]) {
			close(pfd[0]);
			child(self, null_fd, pfd[1], fds);
		}
	}
	close(pfd[1]);
	if (n == procs && !stop) {
		while (!stop) {
			r = read(pfd[0], buf, sizeof(buf));
			if (r > 0)
				nready += r;
			else if (!r || errno != EINTR)
				break;
		}
		if (!stop && nready != procs) {
			fprintf(stderr, "fd_holders: only %d of %d children got ready\n", nready,
				procs);
			stop = -1;
		}
		if (!stop && ready && close(open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)))
			die(ready);
		if (!stop) {
			printf("fd_holders: procs=%d fds=%d\n", procs, fds);
			fflush(stdout);
		}
		while (!stop)
			pause();
	} else if (!stop) {
		fprintf(stderr, "fd_holders: fork: %s (after %d children)\n", strerror(errno), n);
	}
	for (int i = 0; i < n; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return n == procs && stop != -1 ? 0 : 1;
}
