/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `run`'s job cgroup: a cgroup v2 child of cidtrace's own cgroup that the command is put in
 * before it execs. Everything the job starts inherits it, and no fork, setsid or reparenting
 * takes a process out of it (only root moving it can), so it is the job's identity. The BPF
 * side flags the records of processes in it (CT_JOB_CGROUP); --reap checks it in /proc.
 */
#ifndef CIDTRACE_JOBCG_H
#define CIDTRACE_JOBCG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct job_cgroup {
	char dir[PATH_MAX]; /* its directory, under the cgroup v2 mount */
	char path[PATH_MAX]; /* as the "0::" line of /proc/PID/cgroup shows it */
	char parent[PATH_MAX]; /* cidtrace's own cgroup directory, where leftovers go */
	uint64_t id; /* the directory's inode: the kernel's cgroup id (kernfs node id) */
	bool created;
};

/*
 * Make a new cgroup below cidtrace's own in the v2 hierarchy (found in /proc/self/mountinfo
 * and /proc/self/cgroup: /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on a
 * hybrid one). Returns 0, or -errno with *why saying which step failed.
 */
int jobcg_create(struct job_cgroup *cg, const char **why);
/* Move pid into it (cgroup.procs). 0 or -errno. */
int jobcg_enter(struct job_cgroup *cg, pid_t pid);
/*
 * Move what is still in it (what the job leaked and --reap left) back to cidtrace's own
 * cgroup, then remove it. 0 or -errno; a cgroup never created is a no-op.
 */
int jobcg_remove(struct job_cgroup *cg);
/* The "0::" path of /proc/PID/cgroup (its cgroup v2, now) into out. false: none, too long. */
bool jobcg_path_of(pid_t pid, char *out, size_t outsz);

#endif
