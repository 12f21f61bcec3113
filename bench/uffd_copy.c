// SPDX-License-Identifier: GPL-2.0
/*
 * uffd_copy - how fast a userfaultfd pager can fill guest memory, one UFFDIO_COPY per fault.
 *
 *   uffd_copy [-m MIB]
 *
 * This is the restore path of a Firecracker guest with a UFFD memory backend: the VMM (this
 * process) registers MIB MiB (default 1024) of private anonymous memory with
 * UFFDIO_REGISTER_MODE_MISSING and passes the userfaultfd over SCM_RIGHTS to a forked pager,
 * which answers every missing-page fault with UFFDIO_COPY of one 4 KiB page from its source
 * buffer. The VMM's main thread then writes one byte to every page, in order, so each page
 * costs one fault, one wake-up of the pager (it poll()s the uffd and its socket, as
 * Firecracker's UFFD handler does), one read() of the fault message, one copy and one
 * wake-up of the faulting thread. cidtrace tracks userfaultfd contexts; whatever it hooks on
 * that path (uffd creation, the uffd ioctls, the periodic fd scan) must not slow it down.
 *
 * Output (stdout, one line):
 *   uffd_copy: bytes=1073741824 pages=262144 elapsed_s=2.345678 gib_per_s=0.426
 *              ns_per_page=8948.1 cpu_ns_per_page=9876.5 served=262144
 *
 * elapsed_s is wall time of the touch loop only (set-up and tear-down excluded).
 * cpu_ns_per_page is the CPU time of both processes (VMM and pager) over the whole run,
 * set-up included, divided by the pages: waiting for a CPU that other work holds does not
 * count in it, so it is the steadier number on a busy machine.
 * served is the number of UFFDIO_COPYs the pager did; it must equal pages.
 *
 * Exit status: 0 fine, 1 error (one line on stderr), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#define PAGE_SIZE 4096UL

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "uffd_copy: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double ru_s(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'u';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &msg, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		die("recvmsg");
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		die("no fd in the message");
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * The pager: poll the uffd and the socket, like Firecracker's UFFD handler polls its fds; serve
 * every fault; when the VMM writes to the socket, answer with the number of pages served.
 */
static void __attribute__((noreturn)) pager(int sock)
{
	static char src[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	uint64_t served = 0;
	struct pollfd pfd[2];
	struct uffd_msg m;
	char byte;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		exit(1);
	memset(src, 0x5a, sizeof(src));
	pfd[0] = (struct pollfd){ .fd = recv_fd(sock), .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sock, .events = POLLIN };
	for (;;) {
		struct uffdio_copy copy = { .src = (uintptr_t)src, .len = PAGE_SIZE };

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (read(pfd[0].fd, &m, sizeof(m)) != sizeof(m)) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("read uffd");
		}
		if (m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		copy.dst = m.arg.pagefault.address & ~(PAGE_SIZE - 1);
		if (ioctl(pfd[0].fd, UFFDIO_COPY, &copy) && errno != EEXIST)
			die("UFFDIO_COPY");
		served++;
	}
	if (read(sock, &byte, 1) != 1 || write(sock, &served, sizeof(served)) != sizeof(served))
		die("pager: socket");
	exit(0);
}

int main(int argc, char **argv)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	unsigned long mib = 1024, pages;
	double t0, t1, cpu;
	uint64_t served = 0;
	int sv[2], uffd, opt, status;
	char *mem;
	pid_t child;

	while ((opt = getopt(argc, argv, "m:")) != -1) {
		if (opt != 'm' || !(mib = strtoul(optarg, NULL, 10))) {
			fprintf(stderr, "usage: uffd_copy [-m MIB]\n");
			return 2;
		}
	}
	pages = mib * (1024 * 1024 / PAGE_SIZE);

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		die("userfaultfd");
	if (ioctl(uffd, UFFDIO_API, &api))
		die("UFFDIO_API");
	mem = mmap(NULL, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	reg.range.start = (uintptr_t)mem;
	reg.range.len = pages * PAGE_SIZE;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		close(sv[0]);
		pager(sv[1]);
	}
	close(sv[1]);
	send_fd(sv[0], uffd);
	close(uffd);

	t0 = now_s(CLOCK_MONOTONIC);
	for (unsigned long i = 0; i < pages; i++)
		mem[i * PAGE_SIZE] = 1;
	t1 = now_s(CLOCK_MONOTONIC);

	if (write(sv[0], "q", 1) != 1 || read(sv[0], &served, sizeof(served)) != sizeof(served))
		die("socket");
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		die("pager failed");
	cpu = ru_s(RUSAGE_SELF) + ru_s(RUSAGE_CHILDREN);
	printf("uffd_copy: bytes=%lu pages=%lu elapsed_s=%.6f gib_per_s=%.3f ns_per_page=%.1f "
	       "cpu_ns_per_page=%.1f served=%llu\n",
	       pages * PAGE_SIZE, pages, t1 - t0, pages * PAGE_SIZE / (t1 - t0) / (1ul << 30),
	       (t1 - t0) * 1e9 / pages, cpu * 1e9 / pages, (unsigned long long)served);
	return served == pages ? 0 : 1;
}
