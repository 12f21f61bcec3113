// SPDX-License-Identifier: GPL-2.0
/*
 * An orphaned guest's symptoms, from /proc: its threads' CPU time, run-queue wait and state,
 * its uffd's unresolved faults, and how much of its memory is still registered. Read only for
 * owners of contexts that matter, never host-wide.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "uffd.h"
#include "util.h"

bool parse_task_stat(const char *line, struct thread_cpu *t)
{
	const char *open = strchr(line, '('), *close = strrchr(line, ')');
	unsigned long long utime, stime;
	size_t len;

	/* comm may hold spaces and parentheses: it ends at the last ')' */
	if (!open || !close || close < open)
		return false;
	t->tid = strtoul(line, NULL, 10);
	len = close - open - 1;
	if (len > CT_COMM_LEN)
		len = CT_COMM_LEN;
	memcpy(t->comm, open + 1, len);
	t->comm[len] = '\0';
	/* after comm: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 * cmajflt utime(14) stime(15) */
	if (sscanf(close + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &t->state,
		   &utime, &stime) != 3)
		return false;
	t->ticks = utime + stime;
	return true;
}

bool proc_cpu_ticks(int pid, uint64_t *ticks)
{
	struct thread_cpu t;
	char line[512];

	/* /proc/PID/stat has the thread's fields, summed over the group */
	if (!read_proc(pid, "stat", line, sizeof(line)) || !parse_task_stat(line, &t))
		return false;
	*ticks = t.ticks;
	return true;
}

bool parse_schedstat(const char *line, struct thread_cpu *t)
{
	unsigned long long run, wait;

	t->sched = sscanf(line, "%llu %llu", &run, &wait) == 2;
	t->run_ns = t->sched ? run : 0;
	t->wait_ns = t->sched ? wait : 0;
	return t->sched;
}

/* name under the task dir dfd into buf (NUL-terminated); false if unreadable. */
static bool read_at(int dfd, const char *name, char *buf, size_t len)
{
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1); /* both files fit one read: procfs hands them whole */
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0;
}

int proc_threads(int pid, struct thread_cpu *out, int max)
{
	char path[64], line[512];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	/* relative to the task dir: each file is one short lookup, not a walk from /proc */
	while (n < max && (d = readdir(dir))) {
		char name[64];

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(name, sizeof(name), "%.20s/stat", d->d_name);
		if (!read_at(dirfd(dir), name, line, sizeof(line)) ||
		    !parse_task_stat(line, &out[n]))
			continue;
		snprintf(name, sizeof(name), "%.20s/schedstat", d->d_name);
		if (!read_at(dirfd(dir), name, line, sizeof(line)) ||
		    !parse_schedstat(line, &out[n]))
			out[n].sched = false, out[n].run_ns = out[n].wait_ns = 0;
		n++;
	}
	closedir(dir);
	return n;
}

static uint64_t fdinfo_field(const char *text, const char *key)
{
	const char *at = strstr(text, key);

	return at ? strtoull(at + strlen(key), NULL, 10) : 0;
}

bool uffd_fdinfo(int pid, int fd, uint64_t *pending, uint64_t *total)
{
	char name[32], text[1024];

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	if (!read_proc(pid, name, text, sizeof(text)) || !strstr(text, "\ntotal:"))
		return false;
	*pending = fdinfo_field(text, "\npending:");
	*total = fdinfo_field(text, "\ntotal:");
	return true;
}

/* VmFlags "um", "uw" and "ui": registered for missing, write-protect or minor faults. */
static bool uffd_flags_set(const char *flags)
{
	for (const char *f = flags; (f = strchr(f, ' ')); f++)
		if (f[1] == 'u' && strchr("mwi", f[2]) && f[2] &&
		    (f[3] == ' ' || f[3] == '\n' || !f[3]))
			return true;
	return false;
}

void parse_smaps(FILE *f, uint64_t *registered, uint64_t *resident)
{
	uint64_t start = 0, end = 0, rss_kb = 0;
	char *line = NULL;
	size_t cap = 0;

	*registered = *resident = 0;
	while (getline(&line, &cap, f) > 0) {
		/* a mapping's header starts with its lowercase hex range; fields are "Name:" */
		if (!(line[0] >= 'A' && line[0] <= 'Z') &&
		    sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) == 2)
			rss_kb = 0;
		else if (!strncmp(line, "Rss:", 4))
			rss_kb = strtoull(line + 4, NULL, 10);
		else if (!strncmp(line, "VmFlags:", 8) && uffd_flags_set(line + 7)) {
			*registered += end - start;
			*resident += rss_kb * 1024;
		}
	}
	free(line);
}

bool uffd_registered(int pid, uint64_t *registered, uint64_t *resident)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	parse_smaps(f, registered, resident);
	fclose(f);
	return true;
}

/*
 * At most this many pagemap entries (8 bytes each) per resident() call: a few milliseconds.
 * A process can register terabytes of sparse memory; beyond, resident is not known.
 */
#define PAGEMAP_MAX_PAGES (1u << 20)

/*
 * Pages present or swapped in [start, end) of pid's memory, from /proc/PID/pagemap, out of
 * the *budget entries left (false once it would be exceeded).
 */
static bool pagemap_pages(int *fd, int pid, uint64_t start, uint64_t end, uint64_t *budget,
			  uint64_t *bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t buf[512], n = 0;
	char path[64];

	if ((end - start) / page > *budget)
		return false;
	*budget -= (end - start) / page;
	if (*fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return false;
	}
	for (uint64_t at = start; at < end;) {
		size_t want = (end - at) / page < 512 ? (end - at) / page : 512;
		ssize_t got = pread(*fd, buf, want * 8, at / page * 8);

		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got / 8; i++)
			n += (buf[i] >> 62) != 0; /* bit 63 present, 62 swapped */
		at += got / 8 * page;
	}
	*bytes += n * page;
	return true;
}

/*
 * Resident bytes of pid's memory inside the n ranges r: smaps Rss for a mapping wholly
 * inside one, pagemap for the part of one that overlaps it (after a release the once
 * registered mapping may have merged with its unregistered neighbours).
 */
static bool uffd_resident(int pid, const struct ct_uffd_region *r, int n, uint64_t *bytes)
{
	uint64_t start = 0, end = 0, budget = PAGEMAP_MAX_PAGES;
	bool inside = false, ok = true;
	char path[64], *line = NULL;
	size_t cap = 0;
	int pm = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	*bytes = 0;
	while (getline(&line, &cap, f) > 0) {
		if (!(line[0] >= 'A' && line[0] <= 'Z') &&
		    sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) == 2) {
			inside = false;
			for (int i = 0; i < n && !inside; i++) {
				uint64_t s = start > r[i].start ? start : r[i].start,
					 e = end < r[i].end ? end : r[i].end;

				inside = start >= r[i].start && end <= r[i].end;
				if (!inside && s < e)
					ok &= pagemap_pages(&pm, pid, s, e, &budget, bytes);
			}
		} else if (inside && !strncmp(line, "Rss:", 4)) {
			*bytes += strtoull(line + 4, NULL, 10) * 1024;
		}
	}
	free(line);
	fclose(f);
	if (pm >= 0)
		close(pm);
	return ok;
}

static bool src_resident(void *ctx, uint32_t pid, const struct ct_uffd_region *r, int n,
			 uint64_t *bytes)
{
	return uffd_resident(pid, r, n, bytes);
}

static int src_threads(void *ctx, uint32_t pid, struct thread_cpu *out, int max)
{
	return proc_threads(pid, out, max);
}

static bool src_cpu_ticks(void *ctx, uint32_t pid, uint64_t *ticks)
{
	return proc_cpu_ticks(pid, ticks);
}

static bool src_fdinfo(void *ctx, uint32_t pid, int fd, uint64_t *pending, uint64_t *total)
{
	return uffd_fdinfo(pid, fd, pending, total);
}

static bool src_registered(void *ctx, uint32_t pid, uint64_t *registered, uint64_t *resident)
{
	return uffd_registered(pid, registered, resident);
}

void procfs_uffd_source(struct uffd_source *src)
{
	src->threads = src_threads;
	src->cpu_ticks = src_cpu_ticks;
	src->fdinfo = src_fdinfo;
	src->registered = src_registered;
	src->resident = src_resident;
	src->tick_hz = sysconf(_SC_CLK_TCK);
	/* the host has schedstat at all (CONFIG_SCHED_INFO): spinning is judged by demand */
	src->schedstat = access("/proc/self/schedstat", R_OK) == 0;
}
