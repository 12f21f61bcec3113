/* SPDX-License-Identifier: GPL-2.0 */
/* How the report names a process: the pieces every part of it (and `guests`) shares. */
#ifndef CIDTRACE_REPORT_PROC_H
#define CIDTRACE_REPORT_PROC_H

#include <json-c/json.h>
#include <stdint.h>

#include "container.h"
#include "proctable.h"

/*
 * The mount namespace a process's test_dir is a path in (its inode number), null when unknown:
 * two containers' /tmp/TestX/001 are two test dirs.
 */
struct json_object *mnt_ns_json(const struct proc *p);
/* pid, start_ns, comm, test_dir, mnt_ns: which process, and which test it belongs to. */
struct json_object *proc_ref_json(const struct proc *p);
/* proc_ref_json plus ppid and argv: enough to find the process's command. */
struct json_object *proc_json_brief(const struct proc *p);
/* {code, signal, core_dumped}, or NULL while it lives. */
struct json_object *exit_json(const struct proc *p);
/* {pid: [NSpid, host's first], pid_truncated, pid_ns, mnt_ns, net_ns}, or NULL: unknown. */
struct json_object *ns_json(const struct proc *p);
/* {runtime, id, pod_uid} of the container its cgroup names, or NULL: none. */
struct json_object *container_json(const struct proc *p);
/* Its pid in its own pid namespace when that is not the host's and the chain is whole; else 0. */
uint32_t proc_inner_pid(const struct proc *p);
/*
 * Where it runs when that is not plainly the host, for a live line or a snapshot table:
 * "container 3f2a9c0d1e8b, pid 17 inside", "pid 17 in its pid namespace", "container
 * 3f2a9c0d1e8b"; "" (false) otherwise. ct, when not NULL, gets the container's short form
 * (CONTAINER_SHORT_MAX bytes; "" for none). Safe to print as is.
 */
#define PROC_WHERE_MAX (CONTAINER_SHORT_MAX + 48)
bool proc_where(const struct proc *p, char *buf, char *ct);
/* A process's fatal_signals[]: those kept (the first PROC_SIGS_MAX) received up to until_ns. */
struct json_object *fatal_signals_json(const struct proc *p, uint64_t until_ns);

#endif
