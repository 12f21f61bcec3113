// SPDX-License-Identifier: GPL-2.0
/*
 * The report and the live lines of a scripted trace, byte for byte: synthetic records go
 * through the collector (fork, exec, signals, exits, vsock binds and conflicts, a uffd whose
 * pager dies), then the report is written and compared with tests/unit/report.golden.json
 * (host replaced by fixed values), the live lines with tests/unit/live.golden.txt.
 * CIDTRACE_GOLDEN_UPDATE=1 rewrites both. The uffd owner is this process, holding a real
 * userfaultfd over 4 MiB of untouched memory: its smaps, read through the uffd source's /proc
 * readers as the tracer sets them (procfs_uffd_source), is what says the guest's memory is
 * still registered. Pids above pid_max name processes /proc cannot have.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "collector.h"
#include "json.h"
#include "live.h"
#include "procfs.h"
#include "report.h"
#include "uffd.h"
#include "util.h"

#define S	   1000000000ull
#define MAKE_PID   4194400u
#define QEMU1_PID  4194410u
#define QEMU2_PID  4194420u
#define PAGER_PID  4194500u
#define UFFD_BYTES (4u << 20)

static struct collector c;

static struct ct_event_hdr hdr(uint32_t type, uint32_t pid, uint32_t ppid, uint64_t start,
			       uint64_t ts, const char *comm)
{
	struct ct_event_hdr h = {
		.type = type, .pid = pid, .ts_ns = ts, .start_ns = start, .ppid = ppid, .tid = pid
	};

	memcpy(h.comm, comm, strnlen(comm, CT_COMM_LEN));
	return h;
}

static void feed(void *data, size_t len)
{
	collector_handle(&c, data, len);
}

static void fork_exec(uint32_t pid, uint32_t ppid, uint64_t start, const char *comm,
		      const char *exe, const char *argv, size_t argv_len, const char *cwd)
{
	static struct ct_exec_event e;
	struct ct_fork_event f = { .hdr = hdr(CT_EV_FORK, pid, ppid, start, start, comm) };

	feed(&f, sizeof(f));
	memset(&e, 0, sizeof(e));
	e.hdr = hdr(CT_EV_EXEC, pid, ppid, start, start + 1000, comm);
	e.argv_len = argv_len;
	e.cwd_off = CT_PATH_MAX - strlen(cwd) - 1;
	memcpy(e.cwd + e.cwd_off, cwd, strlen(cwd));
	snprintf(e.filename, sizeof(e.filename), "%s", exe);
	memcpy(e.argv, argv, argv_len);
	feed(&e, CT_EXEC_FIXED_LEN + argv_len);
}

static void signal_exit(uint32_t pid, uint32_t ppid, uint64_t start, const char *comm, uint64_t ts,
			uint32_t sig, uint32_t status)
{
	struct ct_signal_event s = { hdr(CT_EV_SIGNAL, pid, ppid, start, ts, comm), sig, 1, "" };
	struct ct_exit_event x = { hdr(CT_EV_EXIT, pid, ppid, start, ts + S, comm), status, 0 };

	strcpy(s.sender_comm, "systemd");
	if (sig)
		feed(&s, sizeof(s));
	feed(&x, sizeof(x));
}

static void vsock(uint32_t type, uint32_t pid, uint64_t start, const char *comm, uint64_t ts,
		  uint64_t instance, uint64_t cid, int ret)
{
	/* each VMM in a network namespace of its own: on a kernel before 7.0 the CID is shared */
	struct ct_vsock_event e = { hdr(type, pid, 1, start, ts, comm),
				    instance,
				    cid,
				    ret,
				    CT_SRC_FEXIT,
				    0,
				    0,
				    pid == QEMU1_PID ? 4026531840u : 4026532400u,
				    0 };

	feed(&e, sizeof(e));
}

/* The uffd source: the files listed here, for every process or one. */
static struct ct_uffd_event files[2];
static int nfiles;

static int scan(void *ctx, uint32_t pid, void (*fn)(const struct ct_uffd_event *e, void *arg),
		void *arg)
{
	for (int i = 0; i < nfiles; i++)
		if (!pid || files[i].hdr.pid == pid)
			fn(&files[i], arg);
	return 0;
}

static int real_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	void *mem =
		mmap(NULL, UFFD_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (fd < 0 || mem == MAP_FAILED || ioctl(fd, UFFDIO_API, &api))
		return -1;
	reg.range.start = (unsigned long)mem;
	reg.range.len = UFFD_BYTES;
	return ioctl(fd, UFFDIO_REGISTER, &reg) ? -1 : fd;
}

static void script(int ufd)
{
	static const char make_argv[] = "make\0test";
	static const char qemu_argv[] = "qemu-system-x86_64\0-device\0vhost-vsock-pci,guest-cid=5";
	uint32_t self = getpid();
	struct ct_uffd_event u = { hdr(CT_EV_UFFD_IOCTL, self, 1, 170 * S, 172 * S, "qemu-uffd"),
				   0xc1,
				   UFFD_BYTES,
				   CT_UFFDIO_REGISTER,
				   0,
				   0,
				   CT_UFFD_OWNER };
	struct uffd_source src = { .scan = scan };

	fork_exec(MAKE_PID, 1, 100 * S, "make", "/usr/bin/make", make_argv, sizeof(make_argv),
		  "/tmp/ci/job1");
	fork_exec(QEMU1_PID, MAKE_PID, 110 * S, "qemu-system-x86", "qemu-system-x86_64", qemu_argv,
		  sizeof(qemu_argv), "/tmp/ci/job1/t1");
	vsock(CT_EV_VSOCK_BIND, QEMU1_PID, 110 * S, "qemu-system-x86", 120 * S, 0xaaa, 5, 0);
	fork_exec(QEMU2_PID, MAKE_PID, 130 * S, "qemu-system-x86", "/usr/bin/qemu-system-x86_64",
		  qemu_argv, sizeof(qemu_argv), "/tmp/ci/job1/t2");
	vsock(CT_EV_VSOCK_BIND, QEMU2_PID, 130 * S, "qemu-system-x86", 140 * S, 0xbbb, 5,
	      -EADDRINUSE);
	vsock(CT_EV_VSOCK_BIND, QEMU2_PID, 130 * S, "qemu-system-x86", 141 * S, 0xbbb, 5,
	      -EADDRINUSE);
	vsock(CT_EV_VSOCK_BIND, QEMU2_PID, 130 * S, "qemu-system-x86", 142 * S, 0xbbb, 1, -EINVAL);
	signal_exit(QEMU1_PID, MAKE_PID, 110 * S, "qemu-system-x86", 150 * S, 9, 9);
	vsock(CT_EV_VSOCK_RELEASE, QEMU1_PID, 110 * S, "qemu-system-x86", 151 * S, 0xaaa, 5, 0);
	vsock(CT_EV_VSOCK_BIND, QEMU2_PID, 130 * S, "qemu-system-x86", 152 * S, 0xbbb, 5, 0);
	signal_exit(MAKE_PID, 1, 100 * S, "make", 159 * S, 0, 2 << 8);

	/* a guest whose pager gets SIGKILL while its memory is registered */
	feed(&u, sizeof(u));
	u.hdr = hdr(CT_EV_UFFD_IOCTL, PAGER_PID, 1, 171 * S, 173 * S, "pager");
	u.cmd = CT_UFFDIO_COPY;
	u.flags = 0;
	feed(&u, sizeof(u));
	files[0] = (struct ct_uffd_event){ hdr(CT_EV_UFFD_FILE, self, 1, 170 * S, 0, "qemu-uffd"),
					   0xc1,
					   0,
					   0,
					   0,
					   ufd,
					   CT_UFFD_OWNER };
	files[1] = (struct ct_uffd_event){
		hdr(CT_EV_UFFD_FILE, PAGER_PID, 1, 171 * S, 0, "pager"), 0xc1, 0, 0, 0, 7, 0
	};
	nfiles = 2;
	procfs_uffd_source(&src);
	uffd_set_source(c.uffd, &src);
	uffd_tick(&c, 180 * S);
	signal_exit(PAGER_PID, 1, 171 * S, "pager", 185 * S, 9, 9);
	nfiles = 1;
	uffd_tick(&c, 190 * S);
}

/* The whole file, NUL-terminated, or NULL. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n;

	if (!f)
		return NULL;
	*len = 0;
	do {
		buf = realloc(buf, cap += 65536);
		n = fread(buf + *len, 1, cap - *len - 1, f);
		*len += n;
	} while (n);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/*
 * got with this process's pid, which differs per run, replaced by "SELF"; malloc'ed. A pid
 * right-aligned in a live line's column is padded to its width: the padding goes too (one
 * space is left), or the golden would hold for pids of one number of digits only.
 */
static char *mask_self(const char *s, size_t *len)
{
	char pid[16], *out = malloc(*len * 2 + 1), *w = out;
	size_t n = snprintf(pid, sizeof(pid), "%d", getpid());

	if (!out)
		abort();
	for (size_t i = 0; i < *len;) {
		if (i + n <= *len && !memcmp(s + i, pid, n) &&
		    (!i || s[i - 1] < '0' || s[i - 1] > '9') &&
		    (i + n == *len || s[i + n] < '0' || s[i + n] > '9')) {
			while (w - out >= 2 && w[-1] == ' ' && w[-2] == ' ')
				w--;
			w = stpcpy(w, "SELF");
			i += n;
			continue;
		}
		*w++ = s[i++];
	}
	*w = '\0';
	*len = w - out;
	return out;
}

static void compare(const char *text, size_t len, const char *golden)
{
	char *got = mask_self(text, &len), *want;
	size_t want_len;

	if (getenv("CIDTRACE_GOLDEN_UPDATE")) {
		FILE *f = fopen(golden, "w");

		CHECK(f && fwrite(got, 1, len, f) == len);
		if (f)
			fclose(f);
		free(got);
		return;
	}
	want = slurp(golden, &want_len);
	CHECK(want != NULL);
	CHECK(want && want_len == len && !memcmp(want, got, len));
	if (want && (want_len != len || memcmp(want, got, len)))
		fprintf(stderr, "differs from %s\n", golden);
	free(want);
	free(got);
}

int main(void)
{
	char dir[] = "/tmp/cidtrace-unit.XXXXXX", path[256], live[256];
	struct attach_modes modes = { "tp_btf", "iter", "fexit", 120 * S, "iter" };
	/* the trace before this one was killed 9 s before this one started */
	struct trace_previous prev = { .started_us = 10000000, .updated_us = 90000000 };
	struct checkpoint_stats cp = { 5 * S, 19, 1, 0, 1234567, 4500000 };
	struct report_meta m = { .mode = "run",
				 .previous = &prev,
				 .started_ns = 99 * S,
				 .ended_ns = 200 * S,
				 .attach = &modes,
				 .lost = 0,
				 .ring_buffer_bytes = 2 << 20,
				 .checkpoints = &cp };
	struct collector_cfg cfg = { .live = LIVE_TEXT,
				     .vmm_comms = { "qemu*" },
				     .nvmm_comms = 1,
				     .spin_pct = 80,
				     .spin_window_ns = 10 * S,
				     .keep_processes = KEEP_PROCESSES_DEFAULT,
				     .keep_for_ns = KEEP_FOR_NS_DEFAULT };
	struct json_object *r, *host;
	int ufd = real_uffd(), out;
	size_t len;
	char *text;

	if (ufd < 0) {
		fprintf(stderr, "test_report: skipped, no userfaultfd here (%s)\n",
			strerror(errno));
		return 0;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/report.json", dir);
	snprintf(live, sizeof(live), "%s/live.txt", dir);
	cfg.td.roots[0] = "/tmp/ci";
	cfg.td.nroots = 1;
	cfg.td.depth = 2;
	collector_init(&c, &cfg);
	live_observe(&c);

	fflush(stdout);
	out = dup(1);
	CHECK(freopen(live, "w", stdout) != NULL);
	script(ufd);
	fflush(stdout);
	dup2(out, 1);
	close(out);

	collector_log_reap(&c, pt_find(&c.pt, QEMU2_PID, 130 * S), "sigterm", 201 * S);
	collector_log_reap(&c, pt_find(&c.pt, QEMU2_PID, 130 * S), "sigkill", 206 * S)->exited =
		true;
	m.command = (char *const[]){ "make", "test", NULL };
	CHECK(report_write(path, &c, &m, NULL) == 0);

	/* the host is this machine's: fix it, keep every other byte as written */
	r = json_object_from_file(path);
	CHECK(r != NULL);
	CHECK(json_object_object_get_ex(r, "host", &host));
	json_object_object_add(host, "hostname", jstr("golden"));
	json_object_object_add(host, "kernel", jstr("6.18.0"));
	text = strdup(json_object_to_json_string_ext(r, CT_JSON_FLAGS | JSON_C_TO_STRING_PRETTY));
	compare(text, strlen(text), "tests/unit/report.golden.json");
	free(text);
	json_object_put(r);
	text = slurp(live, &len);
	CHECK(text != NULL);
	if (text)
		compare(text, len, "tests/unit/live.golden.txt");
	free(text);

	collector_free(&c);
	unlink(path);
	unlink(live);
	rmdir(dir);
	return check_done("test_report");
}
