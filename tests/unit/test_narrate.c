// SPDX-License-Identifier: GPL-2.0
/*
 * narrate_summary says what the report writer says, for findings as json-c reads them:
 * real findings from the fuzz corpus. The uffd_orphan corpus
 * finding carries a hand-written summary; its expected summaries below follow the writer
 * (orphan_json in core/uffd.c). cid_conflict findings straight from the core are checked
 * against the writer in test_vsock_core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "narrate.h"
#include "render.h"
#include "vocab.h"

/* A corpus report as json-c reads it: findings as the writer makes them. */
static struct json_object *load(const char *name)
{
	char path[256];
	struct json_object *r;

	snprintf(path, sizeof(path), "tests/fuzz/corpus/%s", name);
	r = json_object_from_file(path);
	CHECK(r != NULL);
	return r;
}

static struct json_object *nth(struct json_object *r, size_t i)
{
	return jidx(r, "findings", i);
}

static void check_said(struct json_object *finding, const char *want)
{
	char *got = narrate_summary(finding);

	CHECK_STR(got, want);
	free(got);
}

static void test_corpus_summaries(void)
{
	struct json_object *r = load("conflict-uffd-all-kinds.json");

	/* cid_conflict (teardown_race), invalid_cid, vmm_leak: the writer's own words */
	check_said(nth(r, 0), jgets(nth(r, 0), "summary"));
	check_said(nth(r, 1), jgets(nth(r, 1), "summary"));
	check_said(nth(r, 3), jgets(nth(r, 3), "summary"));
	/* a kind from a newer cidtrace: no narrator */
	check_said(nth(r, 4), NULL);
	json_object_put(r);

	r = load("real-leak-signals.json");
	for (size_t i = 0; i < jlen(r, "findings"); i++)
		check_said(nth(r, i), jgets(nth(r, i), "summary"));
	json_object_put(r);
}

static void test_orphan_summaries(void)
{
	struct json_object *r = load("conflict-uffd-all-kinds.json");
	struct json_object *x = nth(r, 2), *pager = jget(x, "pager");

	check_said(x, "firecracker pid 900 (/ci/TestSnap/001) lost its uffd pager: "
		      "hypeman-uffd-pa pid 901 got SIGKILL from pid 1 and exited while 512 MiB of "
		      "guest memory was still registered; the guest is spinning at 99% CPU, 43 "
		      "faults unresolved.");
	/* a loaded host: the busiest thread wanted a core and got half: said; 5 points: not */
	{
		struct json_object *th = json_object_new_array(), *t = json_object_new_object();

		json_object_object_add(t, "comm", json_object_new_string("fc_vcpu 1"));
		json_object_object_add(t, "cpu_pct", json_object_new_double(50));
		json_object_object_add(t, "demand_pct", json_object_new_double(101));
		json_object_array_add(th, t);
		json_object_object_add(x, "threads", th);
		check_said(x,
			   "firecracker pid 900 (/ci/TestSnap/001) lost its uffd pager: "
			   "hypeman-uffd-pa pid 901 got SIGKILL from pid 1 and exited while 512 "
			   "MiB of guest memory was still registered; the guest is spinning at "
			   "99% CPU (its busiest thread wants 101% of a core, gets 50%), 43 faults "
			   "unresolved.");
		json_object_object_add(t, "demand_pct", json_object_new_double(55));
		check_said(x, "firecracker pid 900 (/ci/TestSnap/001) lost its uffd pager: "
			      "hypeman-uffd-pa pid 901 got SIGKILL from pid 1 and exited while 512 "
			      "MiB of guest memory was still registered; the guest is spinning at "
			      "99% CPU, 43 faults unresolved.");
	}
	/* stalled, with a note */
	json_object_object_add(x, "state", json_object_new_string("stalled"));
	json_object_object_add(x, "note",
			       json_object_new_string("pager restarted (pid 950) but "
						      "never served this guest"));
	check_said(x, "firecracker pid 900 (/ci/TestSnap/001) lost its uffd pager: "
		      "hypeman-uffd-pa pid 901 got SIGKILL from pid 1 and exited while 512 MiB of "
		      "guest memory was still registered; the guest is stalled, 43 faults "
		      "unresolved. Note: pager restarted (pid 950) but never served this guest.");
	/* pager_lost; killed by a signal nobody was seen sending */
	json_object_object_add(x, "state", json_object_new_string("pager_lost"));
	json_object_object_add(x, "note", NULL);
	json_object_object_add(pager, "fatal_signals", json_object_new_array());
	check_said(x, "firecracker pid 900 (/ci/TestSnap/001) lost its uffd pager: "
		      "hypeman-uffd-pa pid 901 was killed by SIGKILL while 512 MiB of guest "
		      "memory was still registered; the guest is without a pager, 43 faults "
		      "unresolved.");
	/* exited on its own */
	json_object_object_add(jget(pager, "exit"), "signal", json_object_new_int(0));
	json_object_object_add(jget(pager, "exit"), "code", json_object_new_int(3));
	check_said(x, "firecracker pid 900 (/ci/TestSnap/001) lost its uffd pager: "
		      "hypeman-uffd-pa pid 901 exited with status 3 while 512 MiB of guest "
		      "memory was still registered; the guest is without a pager, 43 faults "
		      "unresolved.");
	/* alive: it closed the file */
	json_object_object_add(pager, "exited_at", NULL);
	json_object_object_add(pager, "exit", NULL);
	check_said(x, "firecracker pid 900 (/ci/TestSnap/001) lost its uffd pager: "
		      "hypeman-uffd-pa pid 901 closed its uffd while 512 MiB of guest memory was "
		      "still registered; the guest is without a pager, 43 faults unresolved.");
	/* released: the pager held the last reference; the guest reads zeros */
	json_object_object_add(x, "state", json_object_new_string("released"));
	json_object_object_add(jget(x, "uffd"), "never_served_pages", json_object_new_int(240));
	check_said(x, "firecracker pid 900 (/ci/TestSnap/001) lost its uffd: hypeman-uffd-pa pid "
		      "901 closed its uffd; it held the uffd's last reference, and the release "
		      "unregistered 524288 KiB of guest memory; 240 registered pages were never "
		      "served, and the guest now reads zeros wherever a page was never served.");
	json_object_object_add(jget(x, "uffd"), "never_served_pages", NULL);
	check_said(x, "firecracker pid 900 (/ci/TestSnap/001) lost its uffd: hypeman-uffd-pa pid "
		      "901 closed its uffd; it held the uffd's last reference, and the release "
		      "unregistered 524288 KiB of guest memory; the guest now reads zeros wherever "
		      "a page was never served.");
	json_object_put(r);
}

static void test_conflict_summaries(void)
{
	struct json_object *r = load("conflict-uffd-all-kinds.json");
	struct json_object *x = nth(r, 0), *h = jidx(x, "holder", 0);
	static const struct {
		enum cid_class cls;
		const char *want;
	} cases[] = {
		{ CLASS_INHERITED_FD, "which inherited the vhost fd from its exited binder" },
		{ CLASS_ORPHAN_HOLDER, "an orphan whose parent is gone" },
		{ CLASS_LIVE_DUPLICATE, "a live VMM using the same CID" },
	};
	char want[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object_object_add(x, "classification",
				       json_object_new_string(cid_class_name(cases[i].cls)));
		snprintf(want, sizeof(want),
			 "CID 1234: qemu-system-x86 pid 812 (/ci/TestQEMUWarmForkChain30/001) "
			 "failed to bind it repeatedly; held by qemu-system-x86 pid 640 "
			 "(/ci/TestQEMUWarmForkChain29/001), %s; the two tests share a CID.",
			 cases[i].want);
		check_said(x, want);
	}
	/* one test, one attempt */
	json_object_object_add(h, "test_dir", NULL);
	json_object_object_add(x, "attempts", json_object_new_int(1));
	check_said(x,
		   "CID 1234: qemu-system-x86 pid 812 (/ci/TestQEMUWarmForkChain30/001) failed "
		   "to bind it; held by qemu-system-x86 pid 640, a live VMM using the same CID.");
	json_object_object_add(x, "holder", json_object_new_array());
	json_object_object_add(x, "classification", json_object_new_string("no_holder_found"));
	check_said(x, "CID 1234: qemu-system-x86 pid 812 (/ci/TestQEMUWarmForkChain30/001) failed "
		      "to bind it, but no holder was seen; it was bound before tracing and the "
		      "snapshot could not say by whom.");
	json_object_object_add(x, "classification", json_object_new_string("host_local_cid"));
	check_said(x, "CID 1234: qemu-system-x86 pid 812 (/ci/TestQEMUWarmForkChain30/001) failed "
		      "to bind it: it is this host's own vsock CID; pick another.");
	json_object_put(r);
}

static void test_names(void)
{
	for (enum finding_kind k = 0; k < FINDING_KINDS; k++)
		CHECK(finding_kind_from_name(finding_kind_name(k)) == k);
	for (enum cid_class k = 0; k < CID_CLASSES; k++)
		CHECK(cid_class_from_name(cid_class_name(k)) == k);
	for (enum uffd_ctx_state k = 0; k < UFFD_CTX_STATES; k++)
		CHECK(uffd_ctx_state_from_name(uffd_ctx_state_name(k)) == k);
	for (enum attach_mode k = ATTACH_TP_BTF; k < ATTACH_MODES; k++)
		CHECK(attach_mode_from_name(attach_mode_name(k)) == k);
	CHECK(finding_kind_from_name("cosmic_ray") == FINDING_KINDS);
	CHECK(finding_kind_from_name(NULL) == FINDING_KINDS);
	CHECK(role_from_name("vmm") == ROLE_VMM && role_name(ROLE_NONE) == NULL);
	CHECK_STR(holder_state_name(HOLDER_DUMPING_CORE), "dumping_core");
}

int main(void)
{
	test_corpus_summaries();
	test_orphan_summaries();
	test_conflict_summaries();
	test_names();
	return check_done("test_narrate");
}
