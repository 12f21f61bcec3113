// SPDX-License-Identifier: GPL-2.0
/*
 * Container ids from cgroup v2 paths. Each component is looked at alone (plus its parent's
 * name, for the cgroupfs drivers' bare ids); the innermost container component wins, so a
 * container inside a container (docker in docker, a Kubernetes pod's containers) is named by
 * the one the process is really in. A name is only what whoever made the cgroup chose: see
 * docs/containers.md for what that means for --scope-container and --reap.
 */
#include <stdio.h>
#include <string.h>

#include "container.h"

/* Longer paths are no runtime's: refused rather than cut (a cut could hide a component). */
#define CGROUP_SCAN_MAX 4096
#define HEX_ID_LEN	64
#define UID_LEN		36

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t pn = strlen(prefix);

	return n >= pn && !memcmp(s, prefix, pn);
}

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t sn = strlen(suffix);

	return n >= sn && !memcmp(s + n - sn, suffix, sn);
}

static bool equals(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && !memcmp(s, word, n);
}

/* The runtimes' ids are 64 lowercase hex digits (sha256), and nothing else. */
static bool hex_id(const char *s, size_t n)
{
	return n == HEX_ID_LEN && all_hex(s, n);
}

/*
 * A pod UID: 8-4-4-4-12 hex digits, dashes given as sep ('_' in systemd slice names, where '-'
 * is the hierarchy separator). Written with '-' into out[UID_LEN + 1].
 */
static bool pod_uid(const char *s, size_t n, char sep, char *out)
{
	if (n != UID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != sep : !is_hex(s[i]))
			return false;
		out[i] = dash ? '-' : s[i];
	}
	out[n] = '\0';
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/*
 * A machine name from a unit name: systemd escapes '-' (and anything odd) as \xNN. Only what
 * a machine name may hold (a hostname's characters) is accepted, so no control character or
 * path separator reaches the report.
 */
static bool unescape_name(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\') {
			int hi, lo;

			if (i + 3 >= n || s[i + 1] != 'x')
				return false;
			hi = hexval(s[i + 2]);
			lo = hexval(s[i + 3]);
			if (hi < 0 || lo < 0)
				return false;
			c = (char)(hi << 4 | lo);
			i += 3;
		}
		if (!name_char(c) || o >= CONTAINER_ID_MAX)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return o > 0;
}

static void set_id(struct container_id *out, const char *runtime, const char *id, size_t n)
{
	out->runtime = runtime;
	memcpy(out->id, id, n);
	out->id[n] = '\0';
}

/* "<prefix><64 hex><suffix>": the id, else false. */
static bool wrapped_id(const char *s, size_t n, const char *prefix, const char *suffix,
		       const char **id)
{
	size_t pn = strlen(prefix), sn = strlen(suffix);

	if (n != pn + HEX_ID_LEN + sn || !has_prefix(s, n, prefix) || !has_suffix(s, n, suffix))
		return false;
	*id = s + pn;
	return all_hex(*id, HEX_ID_LEN);
}

/*
 * A machined machine: "machine-<escaped name>.scope", or the unit machinectl starts,
 * "systemd-nspawn@<escaped name>.service". libvirt registers its guests the same way, as
 * "qemu-<N>-<name>" or "lxc-<N>-<name>": those are told apart by that form.
 */
static bool machine(const char *s, size_t n, struct container_id *out)
{
	char name[CONTAINER_ID_MAX + 1];
	const char *p;
	size_t len;
	bool libvirt = false;

	if (has_prefix(s, n, "machine-") && has_suffix(s, n, ".scope")) {
		p = s + strlen("machine-");
		len = n - strlen("machine-") - strlen(".scope");
	} else if (has_prefix(s, n, "systemd-nspawn@") && has_suffix(s, n, ".service")) {
		p = s + strlen("systemd-nspawn@");
		len = n - strlen("systemd-nspawn@") - strlen(".service");
	} else {
		return false;
	}
	if (!unescape_name(p, len, name))
		return false;
	for (const char *const *pre = (const char *const[]){ "qemu-", "lxc-", NULL }; *pre; pre++) {
		size_t pl = strlen(*pre), d = pl;

		if (strncmp(name, *pre, pl))
			continue;
		while (name[d] >= '0' && name[d] <= '9')
			d++;
		libvirt |= d > pl && name[d] == '-';
	}
	set_id(out, libvirt ? "libvirt" : "systemd-nspawn", name, strlen(name));
	return true;
}

/*
 * A Kubernetes pod: systemd driver "kubepods[-<qos>]-pod<uid, '_' for '-'>.slice" (with the
 * kubelet's own prefix, "kubelet-kubepods-...", when its cgroup root is set), cgroupfs driver
 * "pod<uid>" below a "kubepods" component.
 */
static bool pod(const char *s, size_t n, bool under_kubepods, char *uid)
{
	const char *p;

	if (has_suffix(s, n, ".slice") && n > UID_LEN + strlen("-pod.slice")) {
		p = s + n - strlen(".slice") - UID_LEN;
		if (memcmp(p - 4, "-pod", 4))
			return false;
		/* the part before "-pod" is the slice hierarchy: kubepods, then qos classes */
		if (!has_prefix(s, n, "kubepods-") && !has_prefix(s, n, "kubelet-kubepods-"))
			return false;
		return pod_uid(p, UID_LEN, '_', uid);
	}
	return under_kubepods && has_prefix(s, n, "pod") && pod_uid(s + 3, n - 3, '-', uid);
}

/* One component (s, n) after parent (pn bytes at ps; 0 at the root). */
static bool component(const char *s, size_t n, const char *ps, size_t pn, bool in_pod,
		      struct container_id *out)
{
	const char *id;

	/* conmon, the runtimes' monitor, runs beside the container, not in it */
	if (has_prefix(s, n, "libpod-conmon-") || has_prefix(s, n, "crio-conmon-"))
		return false;
	if (wrapped_id(s, n, "docker-", ".scope", &id))
		set_id(out, "docker", id, HEX_ID_LEN);
	else if (wrapped_id(s, n, "cri-containerd-", ".scope", &id) ||
		 wrapped_id(s, n, "containerd-", ".scope", &id) ||
		 wrapped_id(s, n, "nerdctl-", ".scope", &id))
		set_id(out, "containerd", id, HEX_ID_LEN);
	else if (wrapped_id(s, n, "crio-", ".scope", &id))
		set_id(out, "cri-o", id, HEX_ID_LEN);
	else if (wrapped_id(s, n, "libpod-", ".scope", &id) || wrapped_id(s, n, "libpod-", "", &id))
		set_id(out, "podman", id, HEX_ID_LEN);
	else if (hex_id(s, n) && (equals(ps, pn, "docker") || equals(ps, pn, "actions_job")))
		/* docker's cgroupfs driver, and GitHub's runner's --cgroup-parent */
		set_id(out, "docker", s, n);
	else if (hex_id(s, n) && in_pod)
		/* the cgroupfs driver names a pod's containers by id alone, whatever runtime */
		set_id(out, "kubernetes", s, n);
	else
		return machine(s, n, out);
	return true;
}

bool container_from_cgroup(const char *cgroup, struct container_id *out)
{
	struct container_id found = { 0 };
	const char *s, *ps = "";
	size_t len, pn = 0;
	bool kubepods = false, any = false;

	memset(out, 0, sizeof(*out));
	if (!cgroup)
		return false;
	len = strnlen(cgroup, CGROUP_SCAN_MAX + 1);
	if (len > CGROUP_SCAN_MAX || cgroup[0] != '/')
		return false;
	for (s = cgroup; s < cgroup + len;) {
		const char *end = memchr(s, '/', cgroup + len - s);
		size_t n;
		char uid[UID_LEN + 1];

		if (!end)
			end = cgroup + len;
		n = end - s;
		if (n) {
			kubepods |= equals(s, n, "kubepods");
			if (pod(s, n, kubepods, uid)) {
				/* a new pod: what an outer pod's container said no longer holds */
				memset(&found, 0, sizeof(found));
				memcpy(found.pod_uid, uid, sizeof(uid));
				found.runtime = "kubernetes";
				any = true;
			} else if (component(s, n, ps, pn, found.pod_uid[0], &found)) {
				any = true;
			}
			ps = s;
			pn = n;
		}
		s = end + 1;
	}
	if (any)
		*out = found;
	return any;
}

void container_short(const struct container_id *c, char *buf)
{
	size_t n = strlen(c->id);

	if (n == CONTAINER_ID_MAX && strspn(c->id, "0123456789abcdef") == n)
		n = CONTAINER_ID_PREFIX_MIN;
	if (n)
		snprintf(buf, CONTAINER_SHORT_MAX, "%.*s", (int)n, c->id);
	else
		snprintf(buf, CONTAINER_SHORT_MAX, "pod:%.8s", c->pod_uid);
}

bool container_id_matches(const struct container_id *c, const char *id)
{
	size_t n = strlen(id);

	if (!c->id[0] || !n)
		return false;
	return !strcmp(c->id, id) || (n >= CONTAINER_ID_PREFIX_MIN && !strncmp(c->id, id, n));
}
