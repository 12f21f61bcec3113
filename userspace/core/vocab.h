/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report's vocabulary: every word cidtrace writes into a report (docs/report-schema.md)
 * and reads back from one, as an enum with one name table each. Code compares enums; only
 * the JSON writers and readers see the names, through *_name() and *_from_name().
 */
#ifndef CIDTRACE_VOCAB_H
#define CIDTRACE_VOCAB_H

/* findings[].kind, in the order the summary line counts them. */
enum finding_kind {
	CID_CONFLICT,
	INVALID_CID,
	UFFD_ORPHAN,
	VMM_LEAK,
	FINDING_KINDS, /* how many; also "a kind this cidtrace does not know" */
};

/* cid_conflict classification, first match wins (docs/report-schema.md). */
enum cid_class {
	CLASS_TEARDOWN_RACE,
	CLASS_INHERITED_FD,
	CLASS_ORPHAN_HOLDER,
	CLASS_LIVE_DUPLICATE,
	CLASS_HOST_LOCAL_CID,
	CLASS_NO_HOLDER_FOUND,
	CID_CLASSES,
};

/* A CID holder's state_at_conflict. */
enum holder_state {
	HOLDER_RUNNING,
	HOLDER_EXITING,
	HOLDER_DUMPING_CORE,
	HOLDER_STATES,
};

/*
 * uffds[].state, a vmm_leak's uffd.state and, for the first three, an orphan's state
 * (uffd_orphan.state and its history: worst last).
 */
enum uffd_ctx_state {
	UFFD_PAGER_LOST,
	UFFD_STALLED,
	UFFD_SPINNING,
	UFFD_SERVED,
	UFFD_UNSERVED,
	UFFD_RELEASED,
	UFFD_CTX_STATES,
};

/* processes[].role and reaped[].role */
enum role {
	ROLE_NONE, /* null in the report */
	ROLE_VMM, /* a hypervisor by name, or the owner of a userfaultfd */
	ROLE_PAGER, /* serves another process's userfaultfd */
	ROLES,
};

/* trace.attach: the hook each family got. */
enum attach_mode {
	ATTACH_NONE, /* not chosen yet: no name */
	ATTACH_TP_BTF,
	ATTACH_RAW_TP,
	ATTACH_ITER,
	ATTACH_FEXIT,
	ATTACH_KPROBE,
	ATTACH_TRACEPOINT,
	ATTACH_UNAVAILABLE,
	ATTACH_MODES,
};

/* The name in the report; NULL for a value that has none (ROLE_NONE, ATTACH_NONE, or out
 * of range). */
const char *finding_kind_name(enum finding_kind k);
const char *cid_class_name(enum cid_class c);
const char *holder_state_name(enum holder_state s);
const char *uffd_ctx_state_name(enum uffd_ctx_state s);
const char *role_name(enum role r);
const char *attach_mode_name(enum attach_mode m);

/* The value a name stands for, or the count (FINDING_KINDS, CID_CLASSES, ...) for NULL or a
 * name this cidtrace does not know. */
enum finding_kind finding_kind_from_name(const char *name);
enum cid_class cid_class_from_name(const char *name);
enum holder_state holder_state_from_name(const char *name);
enum uffd_ctx_state uffd_ctx_state_from_name(const char *name);
enum role role_from_name(const char *name);
enum attach_mode attach_mode_from_name(const char *name);

#endif
