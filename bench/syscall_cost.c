// SPDX-License-Identifier: GPL-2.0
/*
 * syscall_cost - time two cheap syscalls that have nothing to do with vhost-vsock, to see what
 * a tracer costs every other program on the machine.
 *
 *   getppid()                           no arguments, no locks: almost pure entry/exit cost.
 *   ioctl(/dev/null, FIONREAD, &n)      an ioctl that is not vhost's. /dev/null has no ioctl
 *                                       handler, so it fails with ENOTTY as soon as the VFS
 *                                       has looked at the command: little work of its own.
 *
 * A syscall tracepoint taxes both: enabling any sys_enter/sys_exit tracepoint makes every
 * task take the slow syscall path, and the ioctl one also runs its BPF program on each call.
 * An fexit on vhost_vsock_dev_ioctl taxes neither.
 *
 * Batches alternate between the two calls, so drift (frequency scaling, a neighbour starting
 * up) hits both alike. The batch size is calibrated to about -t milliseconds, so a run takes
 * as long under an emulator (TCG, many times slower per call) as on bare metal. The median
 * over -b batches drops batches hit by an interrupt storm or a migration.
 *
 * Each batch is timed on this thread's CPU clock, not the wall clock: a tracer's program runs
 * on our CPU time, while time spent waiting for a CPU some other task holds is left out. On a
 * machine shared with a VM test that wait is most of the noise; the wall-clock medians are
 * printed too, to show how much of it there was.
 *
 * -c pins the process to one CPU. Tracepoint programs attached through a perf event (libbpf
 * and bpftrace open it on CPU 0) can cost more on that CPU than on the others; a process free
 * to migrate would then mix two costs from run to run.
 *
 * Output (stdout, one line, key=value; CPU nanoseconds per call: the median batch, the 10th
 * percentile batch, the fastest batch; then wall-clock medians; cpu is -1 unless pinned):
 *   syscall_cost: getppid_ns=52.31 ioctl_ns=88.02 getppid_p10_ns=52.00 ioctl_p10_ns=87.50
 *                 getppid_min_ns=51.90 ioctl_min_ns=87.10 getppid_wall_ns=53.00
 *                 ioctl_wall_ns=89.20 batches=15 iters=400000 cpu=1
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCHES 99

static int null_fd;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: syscall_cost [-b BATCHES] [-t MS] [-c CPU]\n"
		"  -b BATCHES  timed batches per call (default 15, at most %d)\n"
		"  -t MS       target length of one batch in milliseconds (default 50)\n"
		"  -c CPU      run on this CPU only\n",
		MAX_BATCHES);
}

static double clock_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The results are not used, but the calls must happen: the compiler cannot drop a syscall,
 * and getppid() is not cached by glibc (unlike getpid() in old versions).
 */
static void call_getppid(long n)
{
	for (long i = 0; i < n; i++)
		getppid();
}

static void call_ioctl(long n)
{
	int avail;

	for (long i = 0; i < n; i++)
		ioctl(null_fd, FIONREAD, &avail);
}

/* CPU nanoseconds per call over one batch of n calls; *wall_ns gets the wall-clock figure. */
static double batch_ns(void (*fn)(long), long n, double *wall_ns)
{
	double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);

	fn(n);
	*wall_ns = (clock_s(CLOCK_MONOTONIC) - t0) * 1e9 / n;
	return (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e9 / n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	double pp[MAX_BATCHES], io[MAX_BATCHES], pp_wall[MAX_BATCHES], io_wall[MAX_BATCHES];
	double target_ms = 50, per_call, wall;
	int batches = 15, cpu = -1, avail, opt;
	long iters;

	while ((opt = getopt(argc, argv, "b:t:c:h")) != -1) {
		switch (opt) {
		case 'b':
			batches = atoi(optarg);
			break;
		case 't':
			target_ms = atof(optarg);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || batches < 1 || batches > MAX_BATCHES || target_ms <= 0 || cpu < -1 ||
	    cpu >= CPU_SETSIZE) {
		usage(stderr);
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "syscall_cost: CPU %d: %s\n", cpu, strerror(errno));
			return 1;
		}
	}

	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0) {
		perror("syscall_cost: /dev/null");
		return 1;
	}
	/*
	 * If /dev/null ever answered FIONREAD, the ioctl would do real work and the numbers would
	 * mean something else; say so instead of timing it.
	 */
	if (ioctl(null_fd, FIONREAD, &avail) == 0 || errno != ENOTTY) {
		fprintf(stderr, "syscall_cost: FIONREAD on /dev/null did not fail with ENOTTY\n");
		return 1;
	}

	/* Warm up (page faults, caches), then size batches from the slower of the two calls. */
	batch_ns(call_getppid, 1000, &wall);
	batch_ns(call_ioctl, 1000, &wall);
	per_call = batch_ns(call_ioctl, 10000, &wall);
	iters = (long)(target_ms * 1e6 / per_call);
	if (iters < 1000)
		iters = 1000;

	for (int i = 0; i < batches; i++) {
		pp[i] = batch_ns(call_getppid, iters, &pp_wall[i]);
		io[i] = batch_ns(call_ioctl, iters, &io_wall[i]);
	}

	/* median() sorts, so the percentiles can be read off the arrays afterwards. */
	printf("syscall_cost: getppid_ns=%.2f ioctl_ns=%.2f", median(pp, batches),
	       median(io, batches));
	printf(" getppid_p10_ns=%.2f ioctl_p10_ns=%.2f", pp[batches / 10], io[batches / 10]);
	printf(" getppid_min_ns=%.2f ioctl_min_ns=%.2f", pp[0], io[0]);
	printf(" getppid_wall_ns=%.2f ioctl_wall_ns=%.2f batches=%d iters=%ld cpu=%d\n",
	       median(pp_wall, batches), median(io_wall, batches), batches, iters, cpu);
	return 0;
}
