// SPDX-License-Identifier: GPL-2.0
/* The cgroup v2 path parser over the runtimes' real formats, and hostile input. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "collector.h"
#include "container.h"
#include "report_proc.h"
#include "state.h"

#define ID64 "3f2a9c0d1e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3928170615e4d3c2b1a09f8e7"
#define ID2  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID  "8f0e6b3c-1d2a-4c5b-9e7f-0a1b2c3d4e5f"
#define UIDU "8f0e6b3c_1d2a_4c5b_9e7f_0a1b2c3d4e5f"

static struct container_id got;

/* "runtime id pod_uid" for a path, or NULL when none is found. */
static const char *parse(const char *cgroup)
{
	static char buf[256];

	if (!container_from_cgroup(cgroup, &got)) {
		CHECK(!got.runtime && !got.id[0] && !got.pod_uid[0]);
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s %s %s", got.runtime, got.id[0] ? got.id : "-",
		 got.pod_uid[0] ? got.pod_uid : "-");
	return buf;
}

/* --scope-cgroup, --scope-container and --scope's mount namespace. */
static void scope_checks(void)
{
	struct collector_cfg cfg = { .scope_mnt_ns = 4026531841ull };

	/* no selector: every cgroup, even unknown; --scope only in cidtrace's mount namespace */
	CHECK(collector_cgroup_selected(&cfg, NULL));
	CHECK(collector_scope_ns(&cfg, 4026531841ull));
	CHECK(collector_scope_ns(&cfg, 0));
	CHECK(!collector_scope_ns(&cfg, 4026532999ull));
	CHECK(!collector_scoped(&cfg));

	cfg.scope_cgroups[cfg.nscope_cgroups++] = "/ci/jobA";
	CHECK(collector_scoped(&cfg));
	CHECK(collector_cgroup_selected(&cfg, "/ci/jobA"));
	CHECK(collector_cgroup_selected(&cfg, "/ci/jobA/vmm"));
	CHECK(!collector_cgroup_selected(&cfg, "/ci/jobA2"));
	CHECK(!collector_cgroup_selected(&cfg, "/ci"));
	CHECK(!collector_cgroup_selected(&cfg, NULL));
	/* selected processes' --scope dirs are their own, in their own mount namespace */
	CHECK(collector_scope_ns(&cfg, 4026532999ull));

	cfg.nscope_cgroups = 0;
	cfg.scope_containers[cfg.nscope_containers++] = "3f2a9c0d1e8b";
	CHECK(collector_cgroup_selected(&cfg, "/system.slice/docker-" ID64 ".scope"));
	CHECK(collector_cgroup_selected(&cfg, "/docker/" ID64 "/sub"));
	CHECK(!collector_cgroup_selected(&cfg, "/system.slice/docker-" ID2 ".scope"));
	CHECK(!collector_cgroup_selected(&cfg, "/3f2a9c0d1e8b"));
	/* a prefix shorter than 12 characters must be the whole id */
	cfg.scope_containers[0] = "3f2a9c0d1e8";
	CHECK(!collector_cgroup_selected(&cfg, "/system.slice/docker-" ID64 ".scope"));
	cfg.scope_containers[0] = "ci";
	CHECK(collector_cgroup_selected(&cfg, "/machine.slice/machine-ci.scope"));
	CHECK(!collector_cgroup_selected(&cfg, "/machine.slice/machine-ci2.scope"));
	/* a pod's own cgroup has no container id to match */
	cfg.scope_containers[0] = UID;
	CHECK(!collector_cgroup_selected(&cfg, "/kubepods/pod" UID));
}

/* in_scope of a process at one path in three places: the host, a container, a chosen cgroup. */
static void in_scope_checks(void)
{
	static const char argv[] = "firecracker\0--api-sock\0/tmp/T/001/fc.sock";
	struct collector_cfg cfg = { .scopes = { "/tmp/T" }, .nscopes = 1, .scope_mnt_ns = 100 };
	struct collector c;
	struct proc p = { .pid = 42, .argv = argv, .argv_len = sizeof(argv) - 1 };

	collector_init(&c, &cfg);
	p.mnt_ns = 100;
	collector_set_in_scope(&c, &p);
	CHECK(p.in_scope);
	/* a container's /tmp/T is another directory */
	p.mnt_ns = 200;
	collector_set_in_scope(&c, &p);
	CHECK(!p.in_scope);
	/* unknown (a capture from before namespaces): as before, by the path */
	p.mnt_ns = 0;
	collector_set_in_scope(&c, &p);
	CHECK(p.in_scope);
	collector_free(&c);

	/* `run`'s job cgroup: its processes' own mount namespace (a VMM under unshare -m) */
	cfg.job_pid = 9;
	cfg.job_cgroup = "/cidtrace-job.9";
	collector_init(&c, &cfg);
	p.mnt_ns = 200;
	p.in_job = true;
	collector_set_in_scope(&c, &p);
	CHECK(p.in_scope);
	p.in_job = false;
	collector_set_in_scope(&c, &p);
	CHECK(!p.in_scope);
	collector_free(&c);
	cfg.job_pid = 0;
	cfg.job_cgroup = NULL;

	/* a chosen cgroup: its processes' own /tmp/T, and no other's */
	cfg.scope_cgroups[cfg.nscope_cgroups++] = "/ctB";
	collector_init(&c, &cfg);
	p.mnt_ns = 200;
	p.cgroup = "/ctB";
	collector_set_in_scope(&c, &p);
	CHECK(p.in_scope);
	p.cgroup = "/ctA";
	collector_set_in_scope(&c, &p);
	CHECK(!p.in_scope);
	p.cgroup = NULL;
	collector_set_in_scope(&c, &p);
	CHECK(!p.in_scope);
	/* cidtrace itself names the scope in its argv: never in it */
	p.cgroup = "/ctB";
	p.pid = c.cfg.self_pid = 7;
	collector_set_in_scope(&c, &p);
	CHECK(!p.in_scope);
	collector_free(&c);
}

/* The short forms the live views print, and the phrase a live line ends with. */
static void where_checks(void)
{
	char ct[CONTAINER_SHORT_MAX], where[PROC_WHERE_MAX];
	struct proc p = { .pid = 4242, .nspid = { 4242, 17 }, .nspid_levels = 2 };
	struct container_id id;

	CHECK(container_from_cgroup("/system.slice/docker-" ID64 ".scope", &id));
	container_short(&id, ct);
	CHECK_STR(ct, "3f2a9c0d1e8b");
	CHECK(container_from_cgroup("/machine.slice/machine-ci\\x2drunner.scope", &id));
	container_short(&id, ct);
	CHECK_STR(ct, "ci-runner");
	CHECK(container_from_cgroup(
		"/kubepods.slice/kubepods-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice", &id));
	container_short(&id, ct);
	CHECK_STR(ct, "pod:0f1e2d3c");
	p.cgroup = "/system.slice/docker-" ID64 ".scope";
	CHECK(proc_where(&p, where, ct) && proc_inner_pid(&p) == 17);
	CHECK_STR(where, "container 3f2a9c0d1e8b, pid 17 inside");
	CHECK_STR(ct, "3f2a9c0d1e8b");
	p.cgroup = "/ci/job";
	CHECK(proc_where(&p, where, ct));
	CHECK_STR(where, "pid 17 in its pid namespace");
	CHECK_STR(ct, "");
	/* a chain cut short has no innermost pid to show; the host's namespace has none */
	p.nspid_truncated = true;
	CHECK(!proc_where(&p, where, NULL) && !where[0] && !proc_inner_pid(&p));
	p.nspid_truncated = false;
	p.nspid_levels = 1;
	CHECK(!proc_where(&p, where, NULL) && !where[0]);
}

int main(void)
{
	char *huge;

	where_checks();

	/* docker: systemd driver, cgroupfs driver, GitHub Actions' --cgroup-parent */
	CHECK_STR(parse("/system.slice/docker-" ID64 ".scope"), "docker " ID64 " -");
	CHECK_STR(parse("/docker/" ID64), "docker " ID64 " -");
	CHECK_STR(parse("/actions_job/" ID64), "docker " ID64 " -");
	/* docker in docker: the inner container is the one the process is in */
	CHECK_STR(parse("/system.slice/docker-" ID64 ".scope/docker/" ID2), "docker " ID2 " -");
	/* containerd: nerdctl and a scope of its own, Kubernetes' cri-containerd */
	CHECK_STR(parse("/system.slice/containerd-" ID64 ".scope"), "containerd " ID64 " -");
	CHECK_STR(parse("/system.slice/nerdctl-" ID64 ".scope"), "containerd " ID64 " -");
	CHECK_STR(parse("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
			".slice/cri-containerd-" ID64 ".scope"),
		  "containerd " ID64 " " UID);
	/* cri-o, with the "container" child it makes for the payload; conmon is not in it */
	CHECK_STR(parse("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
			".slice/crio-" ID64 ".scope/container"),
		  "cri-o " ID64 " " UID);
	CHECK_STR(parse("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
			".slice/crio-conmon-" ID64 ".scope"),
		  "kubernetes - " UID);
	/* podman: systemd and cgroupfs; its conmon; a pod's machine slice is no nspawn machine */
	CHECK_STR(parse("/machine.slice/libpod-" ID64 ".scope"), "podman " ID64 " -");
	CHECK_STR(parse("/libpod_parent/libpod-" ID64), "podman " ID64 " -");
	CHECK_STR(parse("/machine.slice/libpod-conmon-" ID64 ".scope"), NULL);
	CHECK_STR(parse("/machine.slice/machine-libpod_pod_" ID2 ".slice/libpod-" ID64 ".scope"),
		  "podman " ID64 " -");
	CHECK_STR(parse("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID64
			".scope/container"),
		  "podman " ID64 " -");
	/* systemd-nspawn: \x2d is '-'; machinectl's unit; libvirt's guests register alike */
	CHECK_STR(parse("/machine.slice/machine-ci\\x2drunner\\x2d7.scope"),
		  "systemd-nspawn ci-runner-7 -");
	CHECK_STR(parse("/machine.slice/machine-ci.scope/payload"), "systemd-nspawn ci -");
	CHECK_STR(parse("/machine.slice/systemd-nspawn@build\\x2d1.service/payload"),
		  "systemd-nspawn build-1 -");
	CHECK_STR(parse("/machine.slice/machine-qemu\\x2d3\\x2dguest.scope/libvirt/emulator"),
		  "libvirt qemu-3-guest -");
	CHECK_STR(parse("/machine.slice/machine-qemu.scope"), "systemd-nspawn qemu -");
	/* Kubernetes: guaranteed pods have no qos slice; cgroupfs driver; kubelet's own root */
	CHECK_STR(parse("/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-" ID64 ".scope"),
		  "containerd " ID64 " " UID);
	CHECK_STR(parse("/kubepods/burstable/pod" UID "/" ID64), "kubernetes " ID64 " " UID);
	CHECK_STR(parse("/kubepods/pod" UID "/" ID64), "kubernetes " ID64 " " UID);
	CHECK_STR(parse("/kubepods/burstable/pod" UID), "kubernetes - " UID);
	CHECK_STR(parse("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
			"kubelet-kubepods-besteffort-pod" UIDU ".slice/cri-containerd-" ID64
			".scope"),
		  "containerd " ID64 " " UID);
	/* kind: a node in docker, a pod in the node; the pod's container wins */
	CHECK_STR(parse("/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/"
			"kubelet-kubepods-pod" UIDU ".slice/cri-containerd-" ID64 ".scope"),
		  "containerd " ID64 " " UID);
	/* a pod inside a container forgets the outer container's id */
	CHECK_STR(parse("/system.slice/docker-" ID2 ".scope/kubepods/pod" UID),
		  "kubernetes - " UID);

	/* no container */
	CHECK_STR(parse("/"), NULL);
	CHECK_STR(parse(""), NULL);
	CHECK_STR(parse(NULL), NULL);
	CHECK_STR(parse("/user.slice/user-1000.slice/session-3.scope"), NULL);
	CHECK_STR(parse("/system.slice/docker.service"), NULL);
	CHECK_STR(parse("/system.slice/containerd.service"), NULL);
	CHECK_STR(parse("/cidtrace-job.4242"), NULL);
	/* hostile and garbage: wrong lengths, case, characters, escapes, a relative path */
	CHECK_STR(parse("/system.slice/docker-" ID64 "0.scope"), NULL);
	CHECK_STR(parse("/system.slice/docker-3F2A9C0D1E8B7A6F5E4D3C2B1A09F8E7D6C5B4A3928170615E4D3"
			"C2B1A09F8E7.scope"),
		  NULL);
	CHECK_STR(parse("/system.slice/docker-" ID64 ".scopex"), NULL);
	CHECK_STR(parse("system.slice/docker-" ID64 ".scope"), NULL);
	CHECK_STR(parse("/" ID64), NULL);
	CHECK_STR(parse("/kubepods/pod" UIDU), NULL);
	CHECK_STR(parse("/pod" UID "/" ID64), NULL);
	CHECK_STR(parse("/kubepods.slice/kubepods-pod" UID ".slice"), NULL);
	CHECK_STR(parse("/kubepods.slice/kubepods-podzzzzzzzz_1d2a_4c5b_9e7f_0a1b2c3d4e5f.slice"),
		  NULL);
	CHECK_STR(parse("/evil.slice/x-pod" UIDU ".slice"), NULL);
	CHECK_STR(parse("/machine.slice/machine-.scope"), NULL);
	CHECK_STR(parse("/machine.slice/machine-a\\x2.scope"), NULL);
	CHECK_STR(parse("/machine.slice/machine-a\\x.scope"), NULL);
	CHECK_STR(parse("/machine.slice/machine-a\\.scope"), NULL);
	CHECK_STR(parse("/machine.slice/machine-a\\x0a.scope"), NULL);
	CHECK_STR(parse("/machine.slice/machine-a\\x2fb.scope"), NULL);
	CHECK_STR(parse("/machine.slice/machine-\x1b[31m.scope"), NULL);
	CHECK_STR(parse("/machine.slice/machine-"
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope"),
		  NULL);
	CHECK_STR(
		parse("/machine.slice/machine-"
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope"),
		"systemd-nspawn aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa -");
	CHECK_STR(parse("//docker//" ID64 "//"), "docker " ID64 " -");
	CHECK_STR(parse("/docker-" ID64 ".scope/.."), "docker " ID64 " -");
	/* a path longer than any runtime makes is refused, not cut */
	huge = malloc(8192);
	if (huge) {
		memset(huge, '/', 8191);
		huge[8191] = '\0';
		memcpy(huge + 8191 - strlen("docker-" ID64 ".scope"), "docker-" ID64 ".scope",
		       strlen("docker-" ID64 ".scope"));
		CHECK_STR(parse(huge), NULL);
		memset(huge, 'a', 8191);
		CHECK_STR(parse(huge), NULL);
		free(huge);
	}
	scope_checks();
	in_scope_checks();
	return check_done("test_container");
}
