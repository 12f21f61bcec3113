// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int64_t wall_minus_boot_ns;

void errmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("cidtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* p, or when an allocation returned NULL, one line on stderr and abort. */
static void *alloced(void *p)
{
	if (!p) {
		fputs("cidtrace: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xmalloc(size_t size)
{
	return alloced(malloc(size));
}

void *xcalloc(size_t n, size_t size)
{
	return alloced(calloc(n, size));
}

void *xrealloc(void *p, size_t size)
{
	return alloced(realloc(p, size));
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	return alloced(reallocarray(p, n, size));
}

char *xstrdup(const char *s)
{
	return alloced(strdup(s));
}

char *xmemdup(const void *s, size_t len)
{
	char *d = xmalloc(len + 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

FILE *xopen_memstream(char **ptr, size_t *size)
{
	return alloced(open_memstream(ptr, size));
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t now_boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

void clock_init(void)
{
	wall_minus_boot_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
}

int64_t clock_offset(void)
{
	return wall_minus_boot_ns;
}

void clock_set_offset(int64_t offset)
{
	wall_minus_boot_ns = offset;
}

int64_t boot_to_wall_ns(uint64_t boot_ns)
{
	return (int64_t)boot_ns + wall_minus_boot_ns;
}

void fmt_rfc3339(char *buf, size_t len, uint64_t boot_ns)
{
	fmt_rfc3339_wall(buf, len, boot_to_wall_ns(boot_ns));
}

void fmt_rfc3339_wall(char *buf, size_t len, int64_t wall)
{
	time_t sec = wall / 1000000000;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06ldZ", (long)(wall % 1000000000) / 1000);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *utf8_sanitize(const char *s, size_t len, size_t *out_len)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = xmalloc(len * 3 + 1), *o = out;

	for (size_t i = 0; i < len;) {
		size_t n = u[i] ? utf8_seq_len(u + i, len - i) : 0;

		if (n) {
			memcpy(o, u + i, n);
			o += n;
			i += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	if (out_len)
		*out_len = o - out;
	return out;
}

size_t utf8_hidden_control(const char *s, size_t avail, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;

	if (avail >= 2 && u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
		*cp = u[1]; /* C1: U+0080..U+009F */
		return 2;
	}
	if (avail >= 2 && u[0] == 0xd8 && u[1] == 0x9c) {
		*cp = 0x061c; /* ARABIC LETTER MARK */
		return 2;
	}
	if (avail < 3 || u[0] != 0xe2)
		return 0;
	/* U+200E, U+200F (LRM, RLM), U+202A..U+202E (embeddings, overrides) */
	if (u[1] == 0x80 && (u[2] == 0x8e || u[2] == 0x8f || (u[2] >= 0xaa && u[2] <= 0xae))) {
		*cp = 0x2000 | (u[2] & 0x3f);
		return 3;
	}
	/* U+2066..U+2069 (isolates) */
	if (u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9) {
		*cp = 0x2040 | (u[2] & 0x3f);
		return 3;
	}
	return 0;
}

void fput_escaped(FILE *f, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(u + i, len - i);
		unsigned char c = u[i];
		uint32_t cp;

		/* a bidi control (C1 ones are \xNN below): \u202e, never the raw character */
		if (n > 1 && utf8_hidden_control(s + i, n, &cp) && cp > 0xff) {
			fprintf(f, "\\u%04x", cp);
			i += n;
			continue;
		}
		if (n > 1 && !(n == 2 && c == 0xc2 && u[i + 1] < 0xa0)) { /* not a C1 control */
			fwrite(u + i, 1, n, f);
			i += n;
			continue;
		}
		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
		i++;
	}
}

/* Split path into a directory fd and the final name; dirbuf holds the copy. */
static int open_parent(const char *path, char *dirbuf, size_t len, const char **name)
{
	char *slash;
	int fd;

	if (strlen(path) >= len)
		return -ENAMETOOLONG;
	strcpy(dirbuf, path);
	slash = strrchr(dirbuf, '/');
	if (slash && slash[1] == '\0')
		return -EISDIR;
	if (!slash) {
		*name = path;
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		*name = path + (slash - dirbuf) + 1;
		*slash = '\0';
		fd = open(slash == dirbuf ? "/" : dirbuf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

/*
 * The owner of the files cidtrace writes: under sudo (root with SUDO_UID and SUDO_GID), the
 * user who ran sudo, so that the report can be attached without another sudo; else the
 * caller. -1 leaves that id as it is.
 */
static void artifact_owner(uid_t *uid, gid_t *gid)
{
	static const char *const names[2] = { "SUDO_UID", "SUDO_GID" };
	unsigned long v[2] = { (unsigned long)-1, (unsigned long)-1 };

	if (geteuid() == 0) {
		for (int i = 0; i < 2; i++) {
			const char *env = getenv(names[i]);
			char *end;

			if (env && *env >= '0' && *env <= '9') {
				errno = 0;
				v[i] = strtoul(env, &end, 10);
				if (*end || errno || v[i] >= (uid_t)-1)
					v[i] = (unsigned long)-1;
			}
		}
	}
	*uid = (uid_t)v[0];
	*gid = (gid_t)v[1];
}

/* A file cidtrace just created becomes artifact_owner()'s. */
static void give_to_owner(int fd)
{
	uid_t uid;
	gid_t gid;

	artifact_owner(&uid, &gid);
	/* where that fails (a filesystem without owners), the file stays root's, as private */
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
		errno = 0;
}

/* 64 unpredictable bits for a temp name; the clock and pid only if getrandom fails. */
static uint64_t temp_suffix(void)
{
	static uint64_t seq;
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == sizeof(r))
		return r;
	return now_boot_ns() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 40 ^ ++seq;
}

/*
 * A new file in dirfd named after name, with a random suffix: O_EXCL and O_NOFOLLOW (never
 * someone else's file or symlink), mode 0600 and owned by artifact_owner(). The report holds
 * other users' argv and cwds: only root (and the sudo user) may read it.
 */
static int create_temp(int dirfd, const char *name, char *tmp, size_t len)
{
	int namelen = strnlen(name, 200), fd = -1;

	for (int tries = 0; tries < 100; tries++) {
		snprintf(tmp, len, ".%.*s.%016llx.tmp", namelen, name,
			 (unsigned long long)temp_suffix());
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return -errno;
	give_to_owner(fd);
	return fd;
}

/*
 * What may be replaced by a rename: nothing yet, a regular file or a symlink (the link itself
 * is replaced). Never a directory, and never a device, FIFO or socket: root renaming a report
 * over /dev/null would replace the device node itself.
 */
static int check_target(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return -EINVAL;
	return 0;
}

/* open_parent, then check_target: the directory's fd and *name, or -errno with nothing open. */
static int open_target(const char *path, char *dirbuf, size_t len, const char **name)
{
	int dirfd = open_parent(path, dirbuf, len, name), ret;

	if (dirfd < 0)
		return dirfd;
	ret = check_target(dirfd, *name);
	if (ret) {
		close(dirfd);
		return ret;
	}
	return dirfd;
}

/*
 * atomic_exit_on(): the signal that ends this process, and the temp file it must remove
 * first (NULL: none). The handler reads inflight; only this thread writes it.
 */
static int exit_sig, exit_status;
static struct atomic_file *volatile inflight;

static void on_exit_signal(int sig)
{
	struct atomic_file *af = inflight;

	if (af)
		unlinkat(af->dirfd, af->tmp, 0);
	_exit(exit_status);
}

int atomic_exit_on(int sig, int status)
{
	struct sigaction sa = { .sa_handler = on_exit_signal };
	sigset_t set;

	exit_sig = sig;
	exit_status = status;
	sigfillset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigaction(sig, &sa, NULL) || sigprocmask(SIG_UNBLOCK, &set, NULL))
		return -errno;
	return 0;
}

/* Between creating the temp file and naming it in inflight, atomic_exit_on()'s signal waits. */
static void hold_exit_signal(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	if (exit_sig)
		sigaddset(&set, exit_sig);
	sigprocmask(SIG_BLOCK, &set, old);
}

int atomic_open(const char *path, struct atomic_file *af)
{
	char dirbuf[4096];
	int fd, ret;
	sigset_t old;

	memset(af, 0, sizeof(*af));
	af->dirfd = open_target(path, dirbuf, sizeof(dirbuf), &af->name);
	if (af->dirfd < 0)
		return af->dirfd;
	hold_exit_signal(&old);
	fd = create_temp(af->dirfd, af->name, af->tmp, sizeof(af->tmp));
	ret = fd < 0 ? fd : 0;
	if (!ret && !(af->f = fdopen(fd, "w"))) {
		ret = -errno;
		close(fd);
		unlinkat(af->dirfd, af->tmp, 0);
	}
	if (!ret)
		inflight = af;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (ret)
		close(af->dirfd);
	return ret;
}

int atomic_close(struct atomic_file *af, bool commit)
{
	int ret = 0;

	errno = 0;
	if (fflush(af->f) == EOF || ferror(af->f))
		ret = errno ? -errno : -EIO;
	if (commit && !ret && fsync(fileno(af->f)) < 0)
		ret = -errno;
	if (fclose(af->f) == EOF && !ret)
		ret = -errno;
	if (commit && !ret && renameat(af->dirfd, af->tmp, af->dirfd, af->name) < 0)
		ret = -errno;
	if (!commit || ret)
		unlinkat(af->dirfd, af->tmp, 0);
	else
		fsync(af->dirfd);
	/* renamed or removed: a signal from here on finds no temp file of ours by that name */
	inflight = NULL;
	close(af->dirfd);
	return commit ? ret : 0;
}

int atomic_write_probe(const char *path)
{
	char dirbuf[4096], tmp[4096];
	const char *name;
	int dirfd, fd;

	dirfd = open_target(path, dirbuf, sizeof(dirbuf), &name);
	if (dirfd < 0)
		return dirfd;
	fd = create_temp(dirfd, name, tmp, sizeof(tmp));
	if (fd >= 0) {
		close(fd);
		unlinkat(dirfd, tmp, 0);
	}
	close(dirfd);
	return fd < 0 ? fd : 0;
}

int atomic_write_stream(const char *path, int (*fn)(FILE *f, void *ctx), void *ctx)
{
	struct atomic_file af;
	int ret = atomic_open(path, &af), err;

	if (ret)
		return ret;
	ret = fn(af.f, ctx);
	err = atomic_close(&af, ret == 0);
	return ret ? ret : err;
}

struct bytes {
	const void *p;
	size_t len;
};

static int put_bytes(FILE *f, void *ctx)
{
	const struct bytes *b = ctx;

	return fwrite(b->p, 1, b->len, f) == b->len ? 0 : -EIO;
}

int atomic_write(const char *path, const void *data, size_t len)
{
	return atomic_write_stream(path, put_bytes, &(struct bytes){ data, len });
}

/* fchmod, not the create mode, which the umask would cut */
static int put_public_bytes(FILE *f, void *ctx)
{
	return fchmod(fileno(f), 0644) < 0 ? -errno : put_bytes(f, ctx);
}

int atomic_write_public(const char *path, const void *data, size_t len)
{
	return atomic_write_stream(path, put_public_bytes, &(struct bytes){ data, len });
}

int private_create(const char *path)
{
	char dirbuf[4096], tmp[4096];
	const char *name;
	int dirfd, fd;

	dirfd = open_target(path, dirbuf, sizeof(dirbuf), &name);
	if (dirfd < 0)
		return dirfd;
	fd = create_temp(dirfd, name, tmp, sizeof(tmp));
	if (fd >= 0 && renameat(dirfd, tmp, dirfd, name) < 0) {
		int err = -errno;

		close(fd);
		unlinkat(dirfd, tmp, 0);
		fd = err;
	}
	close(dirfd);
	return fd;
}

int private_append(const char *path)
{
	char dirbuf[4096];
	const char *name;
	struct stat st;
	uid_t uid;
	gid_t gid;
	int dirfd, fd, ret = 0;

	dirfd = open_target(path, dirbuf, sizeof(dirbuf), &name);
	if (dirfd < 0)
		return dirfd;
	fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd >= 0) {
		give_to_owner(fd);
		ret = fd;
		goto out;
	}
	if (errno != EEXIST) {
		ret = -errno;
		goto out;
	}
	/* O_NONBLOCK: a FIFO swapped in since check_target fails to open instead of blocking */
	fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno; /* a symlink: ELOOP */
		goto out;
	}
	artifact_owner(&uid, &gid);
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (!S_ISREG(st.st_mode))
		ret = -EINVAL;
	else if (st.st_nlink != 1 || (st.st_uid != geteuid() && st.st_uid != uid))
		ret = -EPERM;
	else if (fcntl(fd, F_SETFL, O_APPEND) < 0)
		ret = -errno;
	if (ret)
		close(fd);
	else
		ret = fd;
out:
	close(dirfd);
	return ret;
}

size_t read_proc_raw(int pid, const char *name, char *buf, size_t len, bool *truncated)
{
	char path[64];
	size_t got = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	if (truncated)
		*truncated = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += n;
	if (truncated)
		*truncated = got == len && read(fd, &(char){ 0 }, 1) == 1;
	close(fd);
	return got;
}

uint32_t proc_ns_inode(int pid, const char *ns)
{
	char path[64];
	struct stat st;

	/* the kernel's namespace inode numbers are 32-bit (ns_common.inum) */
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

size_t read_proc(int pid, const char *name, char *buf, size_t len)
{
	size_t got = read_proc_raw(pid, name, buf, len - 1, NULL);

	buf[got] = '\0';
	return got;
}

static bool parse_stat(int pid, struct ct_event_hdr *h, char *state)
{
	char buf[1024], *rp, *lp;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	size_t n = read_proc(pid, "stat", buf, sizeof(buf) - 1);
	char st;

	buf[n] = '\0';
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || hz <= 0 ||
	    sscanf(rp + 2,
		   "%c %u %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
		   &st, &h->ppid, &ticks) != 3)
		return false;
	h->pid = pid;
	h->start_ns = ticks * (1000000000ull / hz);
	n = rp - lp - 1 < CT_COMM_LEN ? rp - lp - 1 : CT_COMM_LEN;
	memset(h->comm, 0, sizeof(h->comm));
	memcpy(h->comm, lp + 1, n);
	if (state)
		*state = st;
	return true;
}

bool proc_identity(int pid, struct ct_event_hdr *h)
{
	return parse_stat(pid, h, NULL);
}

bool proc_same(uint32_t pid, uint64_t start_ns, struct ct_event_hdr *now, char *state)
{
	uint64_t tick_ns = 1000000000ull / sysconf(_SC_CLK_TCK);

	return parse_stat(pid, now, state) && now->start_ns == start_ns - start_ns % tick_ns;
}

char *term_escape(const char *s)
{
	char *out = NULL;
	size_t len;
	FILE *f = xopen_memstream(&out, &len);

	fput_escaped(f, s, strlen(s));
	fclose(f);
	return out;
}
