// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include <string.h>

#include "vocab.h"

static const char *const finding_kinds[FINDING_KINDS] = {
	[CID_CONFLICT] = "cid_conflict",
	[INVALID_CID] = "invalid_cid",
	[UFFD_ORPHAN] = "uffd_orphan",
	[VMM_LEAK] = "vmm_leak",
};

static const char *const cid_classes[CID_CLASSES] = {
	[CLASS_TEARDOWN_RACE] = "teardown_race",   [CLASS_INHERITED_FD] = "inherited_fd",
	[CLASS_ORPHAN_HOLDER] = "orphan_holder",   [CLASS_LIVE_DUPLICATE] = "live_duplicate",
	[CLASS_HOST_LOCAL_CID] = "host_local_cid", [CLASS_NO_HOLDER_FOUND] = "no_holder_found",
};

static const char *const holder_states[HOLDER_STATES] = {
	[HOLDER_RUNNING] = "running",
	[HOLDER_EXITING] = "exiting",
	[HOLDER_DUMPING_CORE] = "dumping_core",
};

static const char *const uffd_ctx_states[UFFD_CTX_STATES] = {
	[UFFD_PAGER_LOST] = "pager_lost", [UFFD_STALLED] = "stalled",
	[UFFD_SPINNING] = "spinning",	  [UFFD_SERVED] = "served",
	[UFFD_UNSERVED] = "unserved",	  [UFFD_RELEASED] = "released",
};

static const char *const roles[ROLES] = {
	[ROLE_VMM] = "vmm",
	[ROLE_PAGER] = "pager",
};

static const char *const attach_modes[ATTACH_MODES] = {
	[ATTACH_TP_BTF] = "tp_btf",
	[ATTACH_RAW_TP] = "raw_tp",
	[ATTACH_ITER] = "iter",
	[ATTACH_FEXIT] = "fexit",
	[ATTACH_KPROBE] = "kprobe",
	[ATTACH_TRACEPOINT] = "tracepoint",
	[ATTACH_UNAVAILABLE] = "unavailable",
};

static const char *name_of(const char *const *table, unsigned int n, unsigned int v)
{
	return v < n ? table[v] : NULL;
}

/* The index of name in table, or n. */
static unsigned int value_of(const char *const *table, unsigned int n, const char *name)
{
	for (unsigned int i = 0; name && i < n; i++)
		if (table[i] && !strcmp(table[i], name))
			return i;
	return n;
}

#define VOCAB(type, prefix, table, count)                                                          \
	const char *prefix##_name(enum type v)                                                     \
	{                                                                                          \
		return name_of(table, count, v);                                                   \
	}                                                                                          \
	enum type prefix##_from_name(const char *name)                                             \
	{                                                                                          \
		return (enum type)value_of(table, count, name);                                    \
	}

VOCAB(finding_kind, finding_kind, finding_kinds, FINDING_KINDS)
VOCAB(cid_class, cid_class, cid_classes, CID_CLASSES)
VOCAB(holder_state, holder_state, holder_states, HOLDER_STATES)
VOCAB(uffd_ctx_state, uffd_ctx_state, uffd_ctx_states, UFFD_CTX_STATES)
VOCAB(role, role, roles, ROLES)
VOCAB(attach_mode, attach_mode, attach_modes, ATTACH_MODES)
