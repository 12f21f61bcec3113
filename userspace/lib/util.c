// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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
	int64_t wall = boot_to_wall_ns(boot_ns);
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

void fput_escaped(FILE *f, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(u + i, len - i);
		unsigned char c = u[i];

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

static int create_temp(int dirfd, const char *name, char *tmp, size_t len)
{
	static unsigned int seq;
	int fd;

	for (int tries = 0; tries < 100; tries++) {
		snprintf(tmp, len, ".%s.%d.%u.tmp", name, getpid(), seq++);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

/* The target itself must be a regular file (or absent): rename would replace a symlink, but
 * a directory or device named by -o is a user mistake worth reporting. */
static int check_target(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	return 0;
}

int atomic_open(const char *path, struct atomic_file *af)
{
	char dirbuf[4096];
	int fd = -1, ret;

	memset(af, 0, sizeof(*af));
	af->dirfd = open_parent(path, dirbuf, sizeof(dirbuf), &af->name);
	if (af->dirfd < 0)
		return af->dirfd;
	ret = check_target(af->dirfd, af->name);
	if (!ret && (fd = create_temp(af->dirfd, af->name, af->tmp, sizeof(af->tmp))) < 0)
		ret = fd;
	if (!ret && !(af->f = fdopen(fd, "w"))) {
		ret = -errno;
		close(fd);
		unlinkat(af->dirfd, af->tmp, 0);
	}
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
	if (!ret && fsync(fileno(af->f)) < 0)
		ret = -errno;
	if (fclose(af->f) == EOF && !ret)
		ret = -errno;
	if (commit && !ret && renameat(af->dirfd, af->tmp, af->dirfd, af->name) < 0)
		ret = -errno;
	if (!commit || ret)
		unlinkat(af->dirfd, af->tmp, 0);
	else
		fsync(af->dirfd);
	close(af->dirfd);
	return commit ? ret : 0;
}

int atomic_write_probe(const char *path)
{
	char dirbuf[4096], tmp[4096];
	const char *name;
	int dirfd, fd, ret;

	dirfd = open_parent(path, dirbuf, sizeof(dirbuf), &name);
	if (dirfd < 0)
		return dirfd;
	ret = check_target(dirfd, name);
	if (!ret) {
		fd = create_temp(dirfd, name, tmp, sizeof(tmp));
		if (fd < 0) {
			ret = fd;
		} else {
			close(fd);
			unlinkat(dirfd, tmp, 0);
		}
	}
	close(dirfd);
	return ret;
}

int atomic_write(const char *path, const void *data, size_t len)
{
	char dirbuf[4096], tmp[4096];
	const char *name, *p = data;
	int dirfd, fd, ret = 0;

	dirfd = open_parent(path, dirbuf, sizeof(dirbuf), &name);
	if (dirfd < 0)
		return dirfd;
	ret = check_target(dirfd, name);
	if (ret)
		goto out;
	fd = create_temp(dirfd, name, tmp, sizeof(tmp));
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		p += n;
		len -= n;
	}
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (!ret && renameat(dirfd, tmp, dirfd, name) < 0)
		ret = -errno;
	if (ret)
		unlinkat(dirfd, tmp, 0);
	else
		fsync(dirfd);
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
