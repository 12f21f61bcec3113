// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidns.h"
#include "util.h"

/*
 * PROC_PID_INIT_INO (include/linux/proc_ns.h): the initial PID namespace's inode number is
 * fixed, so a namespace with any other one is a child, whichever /proc shows it.
 */
#define PID_INIT_INO 0xEFFFFFFCu

enum pidns_state pidns_check(char *detail, int size)
{
	char link[32];
	struct stat st;
	ssize_t n;
	long pid;

	/*
	 * /proc/self resolves in /proc's own namespace: a /proc mounted from another namespace
	 * shows another pid for us, or none (we are not in it). Checked first, because with
	 * such a /proc, /proc/self/ns/pid would be some other process's.
	 */
	n = readlink("/proc/self", link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(detail, size,
			 "/proc has no entry for cidtrace: it is another pid "
			 "namespace's, or not mounted");
		return PIDNS_FOREIGN_PROC;
	}
	link[n] = '\0';
	pid = strtol(link, NULL, 10);
	if (pid != getpid()) {
		snprintf(detail, size,
			 "/proc is another pid namespace's: it calls cidtrace pid %ld, "
			 "getpid() says %d",
			 pid, (int)getpid());
		return PIDNS_FOREIGN_PROC;
	}
	if (stat("/proc/self/ns/pid", &st) == 0 && st.st_ino != PID_INIT_INO) {
		snprintf(detail, size,
			 "a child pid namespace (pid:[%llu]), cidtrace is pid %d in it",
			 (unsigned long long)st.st_ino, (int)getpid());
		return PIDNS_CHILD;
	}
	snprintf(detail, size, "the host's (pid:[%u])", PID_INIT_INO);
	return PIDNS_HOST;
}

int pidns_require_host(void)
{
	char detail[160];
	enum pidns_state s = pidns_check(detail, sizeof(detail));

	if (s == PIDNS_HOST)
		return EXIT_OK;
	errmsg("runs in %s: run it in the host pid namespace with the host's /proc (docker "
	       "--pid=host, kubernetes hostPID: true)",
	       s == PIDNS_CHILD ? "a child pid namespace"
				: "a pid namespace whose /proc is not its own");
	return EXIT_ENV;
}
