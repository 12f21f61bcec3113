// SPDX-License-Identifier: GPL-2.0
/*
 * sched_sample - what sampling schedstat costs cidtrace's orphan watch, per tick.
 *
 *   sched_sample [-n PROCS] [-t THREADS] [-r ROUNDS]
 *
 * An orphaned guest's owner is sampled every 0.5 s: each of its threads' /proc stat (granted
 * CPU) and, since spinning is judged by demand, its schedstat (run + run-queue wait), both
 * opened relative to the owner's /proc/PID/task directory as kernel/procfs.c does. This
 * forks PROCS idle processes (default 200) of THREADS threads each (default 4), like as many
 * pager-lost guests, then times ROUNDS rounds (default 200) of sampling them all, once
 * reading stat only (the watch before schedstat) and once stat + schedstat, in CPU time of
 * this process (user + system: procfs does its work in the reader's system time).
 *
 * Prints one line:
 *   sched_sample: procs=N threads=T stat_us=A both_us=B
 * A and B: CPU microseconds of one round (one watch tick over every orphan). The added cost
 * of schedstat, in % of one core at 2 ticks a second, is (B - A) / 5000.
 *
 * Children die with the parent (PR_SET_PDEATHSIG), and are killed before it exits.
 * Exit status: 0 fine, 1 error (one line on stderr), 2 usage.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "sched_sample: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *idle(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/* A guest's owner: THREADS threads that sleep, until the parent dies. */
static void __attribute__((noreturn)) child(int threads, int ready)
{
	pthread_t t;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 1; i < threads; i++)
		if (pthread_create(&t, NULL, idle, NULL))
			_exit(1);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	idle(NULL);
	_exit(0);
}

static void read_at(int dfd, const char *name)
{
	char buf[512];
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(fd);
}

/* One watch tick's reads for one owner. */
static void sample(pid_t pid, int sched)
{
	char path[64], name[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(name, sizeof(name), "%.20s/stat", d->d_name);
		read_at(dirfd(dir), name);
		if (!sched)
			continue;
		snprintf(name, sizeof(name), "%.20s/schedstat", d->d_name);
		read_at(dirfd(dir), name);
	}
	closedir(dir);
}

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* CPU microseconds of one round over every pid, as the median of three batches. */
static double round_us(const pid_t *pids, int n, int rounds, int sched)
{
	double b[3], t;

	for (int k = 0; k < 3; k++) {
		t = cpu_us();
		for (int r = 0; r < rounds; r++)
			for (int i = 0; i < n; i++)
				sample(pids[i], sched);
		b[k] = (cpu_us() - t) / rounds;
	}
	for (int i = 0; i < 2; i++)
		for (int j = i + 1; j < 3; j++)
			if (b[j] < b[i])
				t = b[i], b[i] = b[j], b[j] = t;
	return b[1];
}

int main(int argc, char **argv)
{
	int procs = 200, threads = 4, rounds = 200, opt, ready[2];
	double stat_us, both_us;
	pid_t *pids;
	char c;

	while ((opt = getopt(argc, argv, "n:t:r:")) != -1) {
		int *v = opt == 'n' ? &procs : opt == 't' ? &threads : opt == 'r' ? &rounds : NULL;

		if (!v || (*v = atoi(optarg)) < 1 || *v > 100000) {
			fprintf(stderr,
				"usage: sched_sample [-n PROCS] [-t THREADS] [-r ROUNDS]\n");
			return 2;
		}
	}
	pids = calloc(procs, sizeof(*pids));
	if (!pids || pipe(ready))
		die("setup");
	for (int i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (!pids[i])
			child(threads, ready[1]);
	}
	for (int i = 0; i < procs; i++)
		if (read(ready[0], &c, 1) != 1)
			die("children");
	stat_us = round_us(pids, procs, rounds, 0);
	both_us = round_us(pids, procs, rounds, 1);
	printf("sched_sample: procs=%d threads=%d stat_us=%.1f both_us=%.1f\n", procs, threads,
	       stat_us, both_us);
	for (int i = 0; i < procs; i++)
		kill(pids[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}
