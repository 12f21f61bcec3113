// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_exits - how many KVM_RUN round trips per second a VMM on this host can make.
 *
 * A VMM spends its life in ioctl(KVM_RUN): every I/O port or MMIO access of the guest returns
 * to userspace and the VMM calls KVM_RUN again. A tracer hooked on the ioctl syscall (as
 * cidtrace's fallback is, to catch VHOST_VSOCK_SET_GUEST_CID) runs on each of those calls, so
 * this is where such a hook would hurt a real VMM most.
 *
 * The guest is 6 bytes of 16-bit real-mode code at guest physical 0x1000:
 *
 *	loop:	mov al, 0	b0 00
 *		out 0x10, al	e6 10
 *		jmp loop	eb fa
 *
 * so every KVM_RUN comes back with KVM_EXIT_IO on port 0x10 after one guest instruction pair.
 * No paging, no interrupts, no devices: the loop is only the exit/entry path and the syscall.
 *
 * Each of -r runs counts exits for -d seconds of wall time; the median run is reported. The
 * wall clock is read once per exit through the vDSO, which costs far less than the exit.
 *
 * Two rates come out of each run. exits_per_s is per wall-clock second: what a VMM sees. On a
 * shared machine it also drops whenever another task holds our CPU, so it is noisy there.
 * exits_per_cpu_s divides by this thread's CPU time instead (guest time counts as ours, and
 * so does any BPF program run on our syscalls), which leaves out time spent waiting for a CPU.
 * Tracing cost shows up in both; only the second stays readable next to a busy neighbour.
 *
 * -c pins the process to one CPU, for the same reason as in syscall_cost.c: a tracepoint
 * program attached through a perf event may cost more on the CPU that event was opened on.
 *
 * Output (stdout, one line, key=value):
 *   kvm_exits: exits_per_s=152749.1 exits_per_cpu_s=153102.2 ns_per_exit=6531.6
 *              min_per_s=151876.6 max_per_s=154239.6 runs=5 duration_s=2.0 cpu=-1
 * (ns_per_exit is per CPU second; min/max are wall-clock rates.)
 *
 * Exit status: 0 ok, 1 KVM missing or the guest did something unexpected, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS   99
#define GUEST_MEM  0x2000
#define GUEST_CODE 0x1000
#define GUEST_PORT 0x10

static const unsigned char guest_code[] = {
	0xb0, 0x00, /* mov al, 0 */
	0xe6, GUEST_PORT, /* out 0x10, al */
	0xeb, 0xfa, /* jmp -6 */
};

struct vm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kvm_exits [-d SEC] [-r RUNS] [-c CPU]\n"
		"  -d SEC   length of one run in seconds (default 2)\n"
		"  -r RUNS  runs; the median is reported (default 5, at most %d)\n"
		"  -c CPU   run on this CPU only\n",
		MAX_RUNS);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of this thread, including time spent in the guest. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "kvm_exits: %s: %s\n", what, strerror(errno));
	return -1;
}

static int vm_create(struct vm *v)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	void *mem;
	int n;

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		return fail("/dev/kvm");
	n = ioctl(v->kvm, KVM_GET_API_VERSION, 0);
	if (n != KVM_API_VERSION) {
		fprintf(stderr, "kvm_exits: KVM API version %d, expected %d\n", n, KVM_API_VERSION);
		return -1;
	}
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		return fail("KVM_CREATE_VM");

	mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap guest memory");
	memcpy((char *)mem + GUEST_CODE, guest_code, sizeof(guest_code));
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_MEM,
		.userspace_addr = (unsigned long)mem,
	};
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region))
		return fail("KVM_SET_USER_MEMORY_REGION");

	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	n = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (n < (int)sizeof(*v->run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	v->run_size = n;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		return fail("mmap kvm_run");

	/* Real mode with flat segments at 0: CS:IP = 0:0x1000 runs the code above. */
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs))
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs))
		return fail("KVM_SET_SREGS");
	/* Bit 1 of RFLAGS is reserved and must be set; everything else starts out clear. */
	regs = (struct kvm_regs){
		.rip = GUEST_CODE,
		.rflags = 0x2,
	};
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs))
		return fail("KVM_SET_REGS");
	return 0;
}

/* One KVM_RUN that must end in our OUT; anything else means the guest went off the rails. */
static int vm_step(struct vm *v)
{
	struct kvm_run *r = v->run;

	while (ioctl(v->vcpu, KVM_RUN, 0)) {
		if (errno != EINTR)
			return fail("KVM_RUN");
	}
	if (r->exit_reason != KVM_EXIT_IO || r->io.direction != KVM_EXIT_IO_OUT ||
	    r->io.port != GUEST_PORT) {
		fprintf(stderr, "kvm_exits: unexpected exit: reason %u (io dir %u port 0x%x)\n",
			r->exit_reason, r->io.direction, r->io.port);
		return -1;
	}
	return 0;
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
	double rate[MAX_RUNS], cpu_rate[MAX_RUNS], duration = 2, med, cpu_med;
	int runs = 5, cpu = -1, opt;
	struct vm v;

	while ((opt = getopt(argc, argv, "d:r:c:h")) != -1) {
		switch (opt) {
		case 'd':
			duration = atof(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
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
	if (optind != argc || duration <= 0 || runs < 1 || runs > MAX_RUNS || cpu < -1 ||
	    cpu >= CPU_SETSIZE) {
		usage(stderr);
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "kvm_exits: CPU %d: %s\n", cpu, strerror(errno));
			return 1;
		}
	}
	if (vm_create(&v))
		return 1;

	/* Warm up: the first entries fault in guest memory and build KVM's shadow state. */
	for (int i = 0; i < 1000; i++)
		if (vm_step(&v))
			return 1;

	for (int i = 0; i < runs; i++) {
		double t0 = now_s(), c0 = cpu_s(), t = t0, end = t0 + duration;
		long exits = 0;

		while (t < end) {
			if (vm_step(&v))
				return 1;
			exits++;
			t = now_s();
		}
		rate[i] = exits / (t - t0);
		cpu_rate[i] = exits / (cpu_s() - c0);
	}
	cpu_med = median(cpu_rate, runs);
	/* median() sorts, so the extremes are at both ends afterwards. */
	med = median(rate, runs);

	printf("kvm_exits: exits_per_s=%.1f exits_per_cpu_s=%.1f ns_per_exit=%.1f", med, cpu_med,
	       1e9 / cpu_med);
	printf(" min_per_s=%.1f max_per_s=%.1f runs=%d duration_s=%.1f cpu=%d\n", rate[0],
	       rate[runs - 1], runs, duration, cpu);
	return 0;
}
