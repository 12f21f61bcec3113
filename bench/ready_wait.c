// SPDX-License-Identifier: GPL-2.0
/*
 * ready_wait - start a tracer, time how long it takes to become ready, optionally run a
 * workload under it, then stop it and report its memory use.
 *
 *   ready_wait [-f FILE] [-l PREFIX] [-t SEC] [-k SEC] [-o LOG] [-x CMD] -- TRACER [ARG...]
 *
 * "Ready" is whichever comes first: FILE appearing (cidtrace --ready-file) or a line starting
 * with PREFIX on the tracer's stdout/stderr (bpftrace prints "Attaching N probes..."). Both
 * are waited for with inotify/poll on the real event, never by sleeping and re-checking, so
 * the measured time is not rounded up to a polling interval.
 *
 * Once ready, CMD (if any) runs through /bin/sh -c with our stdout/stderr. When it exits, or
 * straight away without -x, the tracer's VmHWM and VmRSS are read from /proc (its peak and
 * current RSS while tracing), then it gets SIGTERM (SIGKILL after -k seconds) and is reaped
 * with wait4() so its ru_maxrss also covers whatever it allocated to write its final report.
 * A shell cannot get at a child's rusage, which is why this is C rather than part of bench.sh.
 *
 * The tracer's stdout and stderr always go through a pipe that is drained for its whole life
 * (a tracer blocked on a full pipe would stall and distort the numbers); -o keeps a copy. It
 * runs in its own process group with stdin on /dev/null, and whatever it leaves running in
 * that group when it exits is killed, so repeated runs do not pile up orphans.
 *
 * Result, one line on stdout (-1 for anything not measured):
 *   ready_wait: ready_ms=12.345 hwm_kb=4100 rss_kb=3900 maxrss_kb=4200 stop_ms=3.210
 *               tracer_exit=0 tracer_signal=0 workload_exit=0
 *
 * Exit status: 0 fine; 1 usage/system error, timeout, or tracer died before ready;
 * 2 workload failed; 3 tracer did not exit with status 0 (after SIGTERM or by itself).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum phase {
	WAIT_READY,
	RUN_WORKLOAD,
	STOPPING,
	DONE,
};

struct state {
	/* options */
	const char *ready_file;
	const char *ready_base; /* basename of ready_file, compared with inotify names */
	const char *prefix;
	size_t prefix_len;
	const char *workload;
	double ready_timeout_s;
	double kill_timeout_s;

	/* descriptors, -1 when closed */
	int ino_fd;
	int out_fd; /* read end of the tracer's stdout+stderr pipe */
	int log_fd;
	int tracer_pidfd;
	int work_pidfd;

	pid_t tracer;
	pid_t work;
	enum phase phase;

	/* prefix scanner: bytes of the current line matched so far, or gave up on this line */
	size_t line_pos;
	bool line_dead;

	double t_fork;
	double t_ready;
	double t_term;
	double t_exit;
	double deadline; /* for WAIT_READY and STOPPING; 0 means none */

	long hwm_kb;
	long startup_hwm_kb; /* VmHWM at ready, before the reset */
	long rss_kb;
	long maxrss_kb;
	int tracer_status;
	bool tracer_reaped;
	bool tracer_early; /* exited on its own while the workload ran */
	int work_status;
	bool work_reaped;
	bool failed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int pidfd_open(pid_t pid)
{
	/* glibc grew a wrapper only in 2.36; the raw syscall works with any libc. */
	return syscall(SYS_pidfd_open, pid, 0);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ready_wait [-f FILE] [-l PREFIX] [-t SEC] [-k SEC] [-o LOG] [-x CMD]\n"
		   "                  -- TRACER [ARG...]\n"
		   "  -f FILE    ready when FILE appears (watched with inotify)\n"
		   "  -l PREFIX  ready when a tracer stdout/stderr line starts with PREFIX\n"
		   "  -t SEC     give up waiting for ready after SEC seconds (default 30)\n"
		   "  -k SEC     SIGKILL the tracer SEC seconds after SIGTERM (default 60)\n"
		   "  -o LOG     copy the tracer's stdout+stderr to LOG (default: discard)\n"
		   "  -x CMD     once ready run /bin/sh -c CMD; stop the tracer when it exits\n");
}

/* A "Name:   123 kB" field of /proc/PID/status, or -1 if the process or the field is gone. */
static long read_status_kb(pid_t pid, const char *field)
{
	size_t flen = strlen(field);
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			if (sscanf(line + flen + 1, "%ld", &kb) != 1)
				kb = -1;
			break;
		}
	}
	fclose(f);
	return kb;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* The log is a convenience; losing it must not change what is measured. */
			return;
		}
		buf += n;
		len -= n;
	}
}

static void mark_ready(struct state *s, double t);

/*
 * Feed tracer output through the prefix matcher. The match fires on the read that delivers
 * the last prefix byte, without waiting for the newline: that is the earliest moment the
 * tracer has told us it is ready.
 */
static void scan_output(struct state *s, const char *buf, size_t len, double t)
{
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\n') {
			s->line_pos = 0;
			s->line_dead = false;
			continue;
		}
		if (s->line_dead || s->line_pos >= s->prefix_len)
			continue;
		if (c != s->prefix[s->line_pos]) {
			s->line_dead = true;
			continue;
		}
		if (++s->line_pos == s->prefix_len && s->phase == WAIT_READY)
			mark_ready(s, t);
	}
}

/* Read whatever the tracer has written so far; closes the pipe on EOF. */
static void drain_output(struct state *s)
{
	char buf[16384];

	while (s->out_fd >= 0) {
		ssize_t n = read(s->out_fd, buf, sizeof(buf));
		double t = now_s();

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			perror("ready_wait: read tracer output");
			close_fd(&s->out_fd);
			return;
		}
		if (n == 0) {
			close_fd(&s->out_fd);
			return;
		}
		if (s->log_fd >= 0)
			write_all(s->log_fd, buf, n);
		if (s->prefix)
			scan_output(s, buf, n, t);
	}
}

static void handle_inotify(struct state *s)
{
	/* Aligned as inotify(7) asks; a whole batch of events fits. */
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	n = read(s->ino_fd, buf, sizeof(buf));
	if (n <= 0)
		return;
	for (char *p = buf; p < buf + n;) {
		const struct inotify_event *ev = (const struct inotify_event *)p;

		/* On overflow the name we want may be among the dropped events: look directly. */
		if ((ev->mask & IN_Q_OVERFLOW) && access(s->ready_file, F_OK) == 0) {
			mark_ready(s, now_s());
			return;
		}
		if (ev->len && !strcmp(ev->name, s->ready_base)) {
			mark_ready(s, now_s());
			return;
		}
		p += sizeof(*ev) + ev->len;
	}
}

static void stop_tracer(struct state *s)
{
	/*
	 * Before SIGTERM: afterwards the report write would be mixed into the tracing peak.
	 * VmRSS next to it tells a startup spike (loading BTF, say) from steady-state growth.
	 */
	s->hwm_kb = read_status_kb(s->tracer, "VmHWM");
	s->rss_kb = read_status_kb(s->tracer, "VmRSS");
	s->t_term = now_s();
	if (kill(s->tracer, SIGTERM))
		perror("ready_wait: kill SIGTERM");
	s->deadline = s->t_term + s->kill_timeout_s;
	s->phase = STOPPING;
}

/*
 * The tracer's peak RSS so far is its start-up peak (libbpf parses the kernel's BTF while
 * loading). Keep it, then reset the high-water mark (clear_refs "5", proc(5)) so that the VmHWM
 * read at stop time is the peak during the workload alone.
 */
static void reset_peak(struct state *s)
{
	char path[64];
	int fd;

	s->startup_hwm_kb = read_status_kb(s->tracer, "VmHWM");
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", s->tracer);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "5", 1) != 1)
		perror("ready_wait: reset VmHWM");
	if (fd >= 0)
		close(fd);
}

static void spawn_workload(struct state *s)
{
	reset_peak(s);
	/* The workload shares our stdout; flush so lines cannot be duplicated or reordered. */
	fflush(stdout);
	fflush(stderr);
	s->work = fork();
	if (s->work < 0) {
		perror("ready_wait: fork workload");
		s->failed = true;
		stop_tracer(s);
		return;
	}
	if (s->work == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", s->workload, (char *)NULL);
		_exit(127);
	}
	s->work_pidfd = pidfd_open(s->work);
	if (s->work_pidfd < 0) {
		perror("ready_wait: pidfd_open workload");
		exit(1);
	}
	s->phase = RUN_WORKLOAD;
}

static void mark_ready(struct state *s, double t)
{
	if (s->phase != WAIT_READY)
		return;
	s->t_ready = t;
	s->deadline = 0;
	/* Nothing else will be created in that directory that we care about. */
	close_fd(&s->ino_fd);
	if (s->workload)
		spawn_workload(s);
	else
		stop_tracer(s);
}

static void reap_tracer(struct state *s)
{
	struct rusage ru;
	pid_t r;

	/*
	 * Pick up the tail of its output (the final -v line, or a ready prefix written just
	 * before dying) while it is still a zombie, so anything that reacts to it still refers
	 * to a pid nobody else can have.
	 */
	drain_output(s);
	/*
	 * Anything the tracer left running in its process group is an orphan now. Kill it while
	 * the zombie still pins the group id, so the signal cannot reach an unrelated group.
	 */
	kill(-s->tracer, SIGKILL);
	do
		r = wait4(s->tracer, &s->tracer_status, 0, &ru);
	while (r < 0 && errno == EINTR);
	s->t_exit = now_s();
	close_fd(&s->tracer_pidfd);
	s->tracer_reaped = true;
	if (r < 0) {
		perror("ready_wait: wait4 tracer");
		s->failed = true;
		s->phase = DONE;
		return;
	}
	/* Linux reports ru_maxrss in kilobytes. */
	s->maxrss_kb = ru.ru_maxrss;

	switch (s->phase) {
	case WAIT_READY:
		fprintf(stderr, "ready_wait: tracer exited before it was ready (status 0x%x)\n",
			s->tracer_status);
		s->failed = true;
		s->phase = DONE;
		break;
	case RUN_WORKLOAD:
		fprintf(stderr, "ready_wait: tracer exited while the workload ran (status 0x%x)\n",
			s->tracer_status);
		/* Keep going: the workload's own timing line is still worth having. */
		s->tracer_early = true;
		break;
	case STOPPING:
	case DONE:
		s->phase = DONE;
		break;
	}
}

static void reap_workload(struct state *s)
{
	pid_t r;

	do
		r = waitpid(s->work, &s->work_status, 0);
	while (r < 0 && errno == EINTR);
	close_fd(&s->work_pidfd);
	s->work_reaped = r == s->work;
	if (s->tracer_reaped)
		s->phase = DONE;
	else
		stop_tracer(s);
}

static void on_timeout(struct state *s)
{
	if (s->phase == WAIT_READY) {
		fprintf(stderr, "ready_wait: not ready after %.1f s\n", s->ready_timeout_s);
		s->failed = true;
		stop_tracer(s);
	} else if (s->phase == STOPPING) {
		fprintf(stderr, "ready_wait: tracer still running %.1f s after SIGTERM, killing\n",
			s->kill_timeout_s);
		kill(s->tracer, SIGKILL);
		s->deadline = 0;
	}
}

static void event_loop(struct state *s)
{
	while (s->phase != DONE) {
		struct pollfd pfd[4];
		int idx_ino = -1, idx_out = -1, idx_tr = -1, idx_wk = -1;
		int nfds = 0, timeout = -1, r;

		if (s->ino_fd >= 0) {
			idx_ino = nfds;
			pfd[nfds++] = (struct pollfd){ .fd = s->ino_fd, .events = POLLIN };
		}
		if (s->out_fd >= 0) {
			idx_out = nfds;
			pfd[nfds++] = (struct pollfd){ .fd = s->out_fd, .events = POLLIN };
		}
		if (s->tracer_pidfd >= 0) {
			idx_tr = nfds;
			pfd[nfds++] = (struct pollfd){ .fd = s->tracer_pidfd, .events = POLLIN };
		}
		if (s->work_pidfd >= 0) {
			idx_wk = nfds;
			pfd[nfds++] = (struct pollfd){ .fd = s->work_pidfd, .events = POLLIN };
		}
		if (s->deadline > 0) {
			double left = s->deadline - now_s();

			/* Round up: waking a millisecond early would just loop once more. */
			timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
		}

		r = poll(pfd, nfds, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("ready_wait: poll");
			exit(1);
		}
		if (r == 0) {
			on_timeout(s);
			continue;
		}
		/*
		 * Ready sources first, so a tracer that signals ready and dies in the same
		 * wakeup is counted as ready-then-died, which is what happened.
		 */
		if (idx_ino >= 0 && pfd[idx_ino].revents)
			handle_inotify(s);
		if (idx_out >= 0 && pfd[idx_out].revents)
			drain_output(s);
		if (idx_wk >= 0 && pfd[idx_wk].revents && s->work_pidfd >= 0)
			reap_workload(s);
		if (idx_tr >= 0 && pfd[idx_tr].revents && s->tracer_pidfd >= 0)
			reap_tracer(s);
	}
}

static double ms_between(double a, double b)
{
	return a > 0 && b > 0 ? (b - a) * 1000.0 : -1;
}

int main(int argc, char **argv)
{
	struct state s = {
		.ready_timeout_s = 30,
		.kill_timeout_s = 60,
		.ino_fd = -1,
		.out_fd = -1,
		.log_fd = -1,
		.tracer_pidfd = -1,
		.work_pidfd = -1,
		.hwm_kb = -1,
		.startup_hwm_kb = -1,
		.rss_kb = -1,
		.maxrss_kb = -1,
		.phase = WAIT_READY,
	};
	const char *log_path = NULL;
	char dirbuf[PATH_MAX];
	int tracer_exit = -1, tracer_signal = 0, work_exit = -1;
	int pipefd[2], opt;

	while ((opt = getopt(argc, argv, "+f:l:t:k:o:x:h")) != -1) {
		switch (opt) {
		case 'f':
			s.ready_file = optarg;
			break;
		case 'l':
			s.prefix = optarg;
			s.prefix_len = strlen(optarg);
			break;
		case 't':
			s.ready_timeout_s = atof(optarg);
			break;
		case 'k':
			s.kill_timeout_s = atof(optarg);
			break;
		case 'o':
			log_path = optarg;
			break;
		case 'x':
			s.workload = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc || (!s.ready_file && !s.prefix) || (s.prefix && !s.prefix_len) ||
	    s.ready_timeout_s <= 0 || s.kill_timeout_s <= 0) {
		usage(stderr);
		return 1;
	}

	/* A dead stdout reader must not kill us before the tracer is stopped. */
	signal(SIGPIPE, SIG_IGN);

	if (s.ready_file) {
		char *slash;

		/* Watch the directory before forking, so a fast tracer cannot beat the watch. */
		if (strlen(s.ready_file) >= sizeof(dirbuf)) {
			fprintf(stderr, "ready_wait: ready file path too long\n");
			return 1;
		}
		strcpy(dirbuf, s.ready_file);
		slash = strrchr(dirbuf, '/');
		if (!slash) {
			strcpy(dirbuf, ".");
			s.ready_base = s.ready_file;
		} else {
			s.ready_base = s.ready_file + (slash - dirbuf) + 1;
			if (slash == dirbuf)
				slash[1] = '\0';
			else
				*slash = '\0';
		}
		s.ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (s.ino_fd < 0 ||
		    inotify_add_watch(s.ino_fd, dirbuf, IN_CREATE | IN_MOVED_TO) < 0) {
			fprintf(stderr, "ready_wait: inotify on %s: %s\n", dirbuf, strerror(errno));
			return 1;
		}
		/* A leftover file would make every run look instantly ready. */
		if (access(s.ready_file, F_OK) == 0) {
			fprintf(stderr, "ready_wait: %s already exists; remove it first\n",
				s.ready_file);
			return 1;
		}
	}
	if (log_path) {
		s.log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (s.log_fd < 0) {
			fprintf(stderr, "ready_wait: %s: %s\n", log_path, strerror(errno));
			return 1;
		}
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		perror("ready_wait: pipe2");
		return 1;
	}

	fflush(stdout);
	fflush(stderr);
	s.t_fork = now_s();
	s.tracer = fork();
	if (s.tracer < 0) {
		perror("ready_wait: fork");
		return 1;
	}
	if (s.tracer == 0) {
		int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		/* If we die (Ctrl-C, timeout in a script) the tracer must not outlive us. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		signal(SIGPIPE, SIG_DFL);
		/*
		 * Own process group, so whatever the tracer leaves behind can be cleaned up as
		 * a group. It is then a background group: stdin from /dev/null keeps a stray
		 * terminal read from stopping it with SIGTTIN.
		 */
		setpgid(0, 0);
		if (null_fd >= 0)
			dup2(null_fd, STDIN_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execvp(argv[optind], argv + optind);
		dprintf(STDERR_FILENO, "ready_wait: exec %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	/* Also from this side, so the group exists before anything below can signal it. */
	setpgid(s.tracer, s.tracer);
	close(pipefd[1]);
	s.out_fd = pipefd[0];
	if (fcntl(s.out_fd, F_SETFL, O_NONBLOCK)) {
		perror("ready_wait: fcntl");
		return 1;
	}
	s.tracer_pidfd = pidfd_open(s.tracer);
	if (s.tracer_pidfd < 0) {
		perror("ready_wait: pidfd_open");
		kill(s.tracer, SIGKILL);
		return 1;
	}
	s.deadline = s.t_fork + s.ready_timeout_s;

	event_loop(&s);

	if (s.tracer_reaped) {
		tracer_exit = WIFEXITED(s.tracer_status) ? WEXITSTATUS(s.tracer_status) : -1;
		tracer_signal = WIFSIGNALED(s.tracer_status) ? WTERMSIG(s.tracer_status) : 0;
	}
	if (s.work_reaped) {
		/* Same convention as the shell: 128 + signal for a killed workload. */
		work_exit = WIFEXITED(s.work_status) ? WEXITSTATUS(s.work_status)
						     : 128 + WTERMSIG(s.work_status);
	}
	printf("ready_wait: ready_ms=%.3f startup_hwm_kb=%ld hwm_kb=%ld rss_kb=%ld maxrss_kb=%ld "
	       "stop_ms=%.3f",
	       ms_between(s.t_fork, s.t_ready), s.startup_hwm_kb, s.hwm_kb, s.rss_kb, s.maxrss_kb,
	       ms_between(s.t_term, s.t_exit));
	printf(" tracer_exit=%d tracer_signal=%d workload_exit=%d\n", tracer_exit, tracer_signal,
	       work_exit);
	fflush(stdout);

	if (s.failed)
		return 1;
	if (s.workload && work_exit != 0)
		return 2;
	if (s.tracer_early || tracer_exit != 0)
		return 3;
	return 0;
}
