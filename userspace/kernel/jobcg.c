// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jobcg.h"
#include "testdir.h"
#include "util.h"

/* Rounds of moving leftovers out before rmdir gives up: each races only with new forks. */
#define REMOVE_ROUNDS 20

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* cidtrace's own cgroup v2 path: the "0::" line of /proc/self/cgroup. */
static bool own_path(char *out, size_t len)
{
	char buf[8192], *line, *end;
	size_t n = read_proc(getpid(), "cgroup", buf, sizeof(buf));

	for (line = buf; line < buf + n; line = end + 1) {
		end = strchrnul(line, '\n');
		if (!strncmp(line, "0::/", 4) && (size_t)(end - line - 3) < len) {
			memcpy(out, line + 3, end - line - 3);
			out[end - line - 3] = '\0';
			return true;
		}
		if (!*end)
			break;
	}
	return false;
}

/*
 * The directory of cgroup path own: a cgroup2 mount whose root holds it, plus the rest of
 * own below that root.
 */
static bool own_dir(const char *own, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char *field[5], *save = NULL, *sep = strstr(line, " - "), fstype[32];
		const char *rest;
		int i;

		if (!sep || sscanf(sep + 3, "%31s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		*sep = '\0';
		for (i = 0; i < 5 && (field[i] = strtok_r(i ? NULL : line, " ", &save)); i++)
			;
		if (i < 5)
			continue;
		unescape(field[3]);
		unescape(field[4]);
		if (!path_under(own, field[3]))
			continue;
		rest = own + (strcmp(field[3], "/") ? strlen(field[3]) : 0);
		found = snprintf(out, len, "%s%s", field[4], strcmp(rest, "/") ? rest : "") <
			(int)len;
	}
	free(line);
	fclose(f);
	return found;
}

int jobcg_create(struct job_cgroup *cg, const char **why)
{
	char own[PATH_MAX];
	struct stat st;
	int err = 0;

	memset(cg, 0, sizeof(*cg));
	if (!own_path(own, sizeof(own))) {
		*why = "no cgroup v2 path in /proc/self/cgroup";
		return -ENOENT;
	}
	if (!own_dir(own, cg->parent, sizeof(cg->parent))) {
		*why = "no cgroup v2 mount holds cidtrace's own cgroup";
		return -ENOENT;
	}
	for (int n = 0; n < 10; n++) {
		char name[64];

		if (n)
			snprintf(name, sizeof(name), "cidtrace-job.%d.%d", getpid(), n);
		else
			snprintf(name, sizeof(name), "cidtrace-job.%d", getpid());
		if (snprintf(cg->dir, sizeof(cg->dir), "%s/%s", cg->parent, name) >=
			    (int)sizeof(cg->dir) ||
		    snprintf(cg->path, sizeof(cg->path), "%s/%s", strcmp(own, "/") ? own : "",
			     name) >= (int)sizeof(cg->path)) {
			*why = "cidtrace's own cgroup path is too long";
			return -ENAMETOOLONG;
		}
		err = mkdir(cg->dir, 0755) ? -errno : 0;
		if (err != -EEXIST) /* a cidtrace killed with SIGKILL left one with this pid */
			break;
	}
	if (err) {
		*why = "cannot make a cgroup below cidtrace's own";
		return err;
	}
	if (stat(cg->dir, &st)) {
		err = -errno;
		rmdir(cg->dir);
		*why = "cannot stat the new cgroup";
		return err;
	}
	cg->id = st.st_ino;
	cg->created = true;
	return 0;
}

static int write_pid(const char *dir, pid_t pid)
{
	char path[PATH_MAX + 16], buf[16];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (write(fd, buf, n) != n)
		err = -errno;
	close(fd);
	return err;
}

int jobcg_enter(struct job_cgroup *cg, pid_t pid)
{
	return cg->created ? write_pid(cg->dir, pid) : -ENOENT;
}

/* Move every process still in cg to cidtrace's own cgroup; false if none was left. */
static bool move_out(struct job_cgroup *cg)
{
	char path[PATH_MAX + 16];
	bool any = false;
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dir);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fscanf(f, "%d", &pid) == 1) {
		write_pid(cg->parent, pid);
		any = true;
	}
	fclose(f);
	return any;
}

int jobcg_remove(struct job_cgroup *cg)
{
	int err = 0;

	if (!cg->created)
		return 0;
	for (int i = 0; i < REMOVE_ROUNDS; i++) {
		if (!rmdir(cg->dir)) {
			cg->created = false;
			return 0;
		}
		err = -errno;
		/* EBUSY: processes are left in it; a zombie just reaped may take a moment */
		if (err != -EBUSY)
			break;
		if (!move_out(cg))
			usleep(1000);
	}
	return err;
}

bool jobcg_path_of(pid_t pid, char *out, size_t outsz)
{
	char buf[8192], *line, *end;
	size_t n = read_proc(pid, "cgroup", buf, sizeof(buf));

	for (line = buf; line < buf + n; line = end + 1) {
		end = strchrnul(line, '\n');
		if (!strncmp(line, "0::/", 4)) {
			*end = '\0';
			return snprintf(out, outsz, "%s", line + 3) < (int)outsz;
		}
		if (!*end)
			break;
	}
	return false;
}
