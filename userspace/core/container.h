/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which container a process runs in, from its cgroup v2 path: the runtimes name their
 * cgroups after the container id (docker, containerd, cri-o, podman, systemd-nspawn) or
 * the pod UID (Kubernetes). Pure string logic, unit-tested over real path formats.
 */
#ifndef CIDTRACE_CONTAINER_H
#define CIDTRACE_CONTAINER_H

#include <stdbool.h>

#define CONTAINER_ID_MAX 64
/*
 * --scope-container takes an id's prefix this long at least, as docker's short ids: shorter,
 * it could name several containers. A shorter argument must be the whole id (a machine name).
 */
#define CONTAINER_ID_PREFIX_MIN 12

struct container_id {
	const char *runtime; /* a static name: "docker", "containerd", "cri-o", ... */
	char id[CONTAINER_ID_MAX + 1]; /* the container id, or the machine name for nspawn */
	char pod_uid[36 + 1]; /* Kubernetes pod UID (dashes restored), or "" */
};

/*
 * Fill *out from a cgroup v2 path ("/system.slice/docker-<id>.scope"). false: none found (out
 * zeroed). A Kubernetes pod's own cgroup, or its conmon's, gives runtime "kubernetes", the pod
 * UID and an empty id. The innermost container component wins.
 */
bool container_from_cgroup(const char *cgroup, struct container_id *out);
/*
 * The container as a narrow column shows it, into buf (at least CONTAINER_SHORT_MAX bytes): a
 * 64-hex id's first 12 characters (docker's short id), a machine name whole, a pod's own
 * cgroup "pod:" and its UID's first 8. Only characters the parser accepted: safe to print.
 */
#define CONTAINER_SHORT_MAX (CONTAINER_ID_MAX + 1)
void container_short(const struct container_id *c, char *buf);
/* id names the container, whole or by a prefix of CONTAINER_ID_PREFIX_MIN characters or more. */
bool container_id_matches(const struct container_id *c, const char *id);

#endif
