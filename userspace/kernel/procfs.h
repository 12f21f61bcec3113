/* SPDX-License-Identifier: GPL-2.0 */
/* What /proc says about an owner of a userfaultfd: threads, CPU, fdinfo and smaps. */
#ifndef CIDTRACE_PROCFS_H
#define CIDTRACE_PROCFS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "thread_cpu.h"

struct uffd_source;

/* Parse one /proc/PID/task/TID/stat line. */
bool parse_task_stat(const char *line, struct thread_cpu *t);
/* Parse one /proc/PID/task/TID/schedstat line into run_ns, wait_ns and sched. */
bool parse_schedstat(const char *line, struct thread_cpu *t);
/* CPU ticks the whole process used, exited threads included (so it never goes down). */
bool proc_cpu_ticks(int pid, uint64_t *ticks);
/* Every thread of pid with its schedstat, up to max; -1 if the process is gone. */
int proc_threads(int pid, struct thread_cpu *out, int max);
/* pending: and total: of fd's fdinfo; false if unreadable (closed, or not a uffd). */
bool uffd_fdinfo(int pid, int fd, uint64_t *pending, uint64_t *total);
/* The same from an smaps text. */
void parse_smaps(FILE *f, uint64_t *registered, uint64_t *resident);
/* Bytes of pid's mappings registered with a userfaultfd, and how many are resident. */
bool uffd_registered(int pid, uint64_t *registered, uint64_t *resident);
/* Fill the /proc readers of a struct uffd_source: threads, cpu_ticks, fdinfo, registered. */
void procfs_uffd_source(struct uffd_source *src);

#endif
