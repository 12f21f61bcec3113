// SPDX-License-Identifier: GPL-2.0
/*
 * Which process holds which vhost-vsock file right now, without a trace: the task_file
 * iterator reads the bound CID from the kernel; without it, /proc fd links and an exact
 * guest-cid=N argv token stand in.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "vsock_files.h"

/* A whole fragment, so guest-cid=12 is never read out of guest-cid=123 or guest-cid=12x. */
uint64_t argv_guest_cid(const char *argv, size_t len)
{
	static const char key[] = "guest-cid=";
	size_t i = 0;

	while (i < len) {
		size_t start = i, n;
		char *end;
		unsigned long long cid;

		while (i < len && argv[i] && argv[i] != ',')
			i++;
		n = i - start;
		if (n > sizeof(key) - 1 && !memcmp(argv + start, key, sizeof(key) - 1) &&
		    isdigit((unsigned char)argv[start + sizeof(key) - 1])) {
			cid = strtoull(argv + start + sizeof(key) - 1, &end, 10);
			if (end == argv + i)
				return cid;
		}
		i++;
	}
	return 0;
}

int vsock_proc_scan(void (*fn)(const struct ct_vsock_event *e, void *arg), void *arg)
{
	static char argv[CT_ARGV_MAX];
	DIR *procdir = opendir("/proc");
	struct dirent *de;

	if (!procdir)
		return -errno;
	while ((de = readdir(procdir))) {
		int pid = atoi(de->d_name);
		char path[64], link[64];
		struct dirent *fde;
		DIR *fds;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fde = readdir(fds))) {
			struct ct_vsock_event e = { .hdr.type = CT_EV_VSOCK_FILE };
			char fdpath[320];
			ssize_t n;

			snprintf(fdpath, sizeof(fdpath), "%s/%s", path, fde->d_name);
			n = readlink(fdpath, link, sizeof(link) - 1);
			if (n <= 0 || (link[n] = '\0', strcmp(link, "/dev/vhost-vsock")))
				continue;
			if (!proc_identity(pid, &e.hdr))
				continue;
			e.cid = argv_guest_cid(argv, read_proc(pid, "cmdline", argv, sizeof(argv)));
			e.fd = atoi(fde->d_name);
			/* the holder's namespace, not the file's: /proc cannot tell that one */
			e.net_ns = proc_ns_inode(pid, "net");
			/* no kernel address to be had: a value no kernel pointer takes */
			e.instance = (uint64_t)pid << 32 | e.fd;
			e.source = 0;
			fn(&e, arg);
		}
		closedir(fds);
	}
	closedir(procdir);
	return 0;
}
