#!/usr/bin/python3
"""scrub.py --keep-tree PID [--tree-out FILE] IN OUT: blank, in a --raw capture, the argv, cwd
and executable of every process that is not PID or one of its descendants
(docs/raw-format.md).

A capture holds the startup snapshot and the exec records of every process on the host, argv
and cwd included. tests/corpus/record.sh records the host scenarios with `--pid PID`, so none
of those other processes is the report's, and scrubs them before a capture is committed. The
records stay, so the core sees the same processes fork, exit and use userfaultfd, in the same
order, and makes the same source calls; only what they ran is replaced: the argv becomes
"scrubbed", the cwd "/", the executable none. Such a process references no scratch root any
more, so the IS_FILE results that followed any of its records (the test dir lookups of its
paths, at its exec or at its fork, which copies the parent's argv) go. Everything else is
copied as it is, the header and META included.

The report of the scrubbed capture is the live one but for the processes outside the tree
that it lists anyway: the ancestors of the tree's processes, with their argv scrubbed.
record.sh checks exactly that.

Process ids are followed through fork records in capture order; a pid that leaves the tree
(reused by a process forked from outside it) is scrubbed from then on. --tree-out writes every
pid that was in the tree, as a JSON array.
"""
import struct
import sys

MAGIC = b"CTRAW\r\n\x1a"
RAW_RING, RAW_SEED, RAW_IS_FILE = 2, 3, 40
RESULTS = 32  # record types from here on are source results
CT_EV_FORK, CT_EV_EXEC, CT_EV_TASK = 1, 2, 5
HDR_LEN = 48  # struct ct_event_hdr: type, pid, ts_ns, start_ns, ppid, tid, comm[16]
CT_PATH_MAX = 512
FIXED_LEN = HDR_LEN + 16 + 2 * CT_PATH_MAX  # CT_EXEC_FIXED_LEN
ARGV = b"scrubbed\0"


def hdr(buf, off):
    """(type, pid, ppid) of the ct_event_hdr at off."""
    ev, pid = struct.unpack_from("<II", buf, off)
    (ppid,) = struct.unpack_from("<I", buf, off + 24)
    return ev, pid, ppid


def scrubbed_exec(fixed):
    """The fixed part of a ct_exec_event with no filename, cwd "/", argv ARGV."""
    e = bytearray(fixed[:HDR_LEN]) + bytearray(FIXED_LEN - HDR_LEN)
    struct.pack_into("<IIH", e, HDR_LEN, 0, len(ARGV), CT_PATH_MAX - 2)  # flags, argv_len, cwd_off
    cwd = HDR_LEN + 16 + CT_PATH_MAX
    e[cwd + CT_PATH_MAX - 2] = ord("/")
    return bytes(e)


def record(rtype, payload):
    return struct.pack("<HHI", rtype, 0, len(payload)) + payload


def records(data, start):
    off = start
    while off < len(data):
        if off + 8 > len(data):
            sys.exit("scrub.py: a truncated record header at %d" % off)
        rtype, flags, length = struct.unpack_from("<HHI", data, off)
        end = off + 8 + length
        if end > len(data):
            sys.exit("scrub.py: a truncated record at %d" % off)
        yield rtype, data[off + 8 : end], data[off:end]
        off = end


def main():
    args = sys.argv[1:]
    tree_out = None
    if len(args) == 6 and args[2] == "--tree-out":
        tree_out = args[3]
        del args[2:4]
    if len(args) != 4 or args[0] != "--keep-tree" or not args[1].isdigit():
        sys.exit("usage: scrub.py --keep-tree PID [--tree-out FILE] IN OUT")
    root, src, dst = int(args[1]), args[2], args[3]
    data = open(src, "rb").read()
    if data[:8] != MAGIC:
        sys.exit("scrub.py: %s is not a cidtrace raw capture" % src)
    (hlen,) = struct.unpack_from("<H", data, 10)

    # The snapshot's tree: seeds come in no particular order, so close over them first.
    seeds = {}
    for rtype, pl, _ in records(data, hlen):
        if rtype == RAW_SEED:
            _, pid, ppid = hdr(pl, 8)
            seeds[pid] = ppid
    keep = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in seeds.items():
            if pid not in keep and ppid in keep:
                keep.add(pid)
                grew = True

    out = [data[:hlen]]
    tree = set(keep)
    scrubbing = False  # the current input was scrubbed: its test dir lookups go
    n_scrubbed = n_dropped = 0
    for rtype, pl, raw in records(data, hlen):
        if rtype >= RESULTS:
            if scrubbing and rtype == RAW_IS_FILE:
                n_dropped += 1
                continue
            out.append(raw)
            continue
        scrubbing = False
        if rtype == RAW_SEED:
            if hdr(pl, 8)[1] not in keep:
                scrubbing = True
                n_scrubbed += 1
                # u32 argv_len, u32 flags (1 argv truncated, 2 exe present), fixed part, argv, exe
                raw = record(
                    RAW_SEED,
                    struct.pack("<II", len(ARGV), 0) + scrubbed_exec(pl[8 : 8 + FIXED_LEN]) + ARGV,
                )
        elif rtype == RAW_RING and len(pl) >= HDR_LEN:
            ev, pid, ppid = hdr(pl, 0)
            if ev == CT_EV_FORK:
                if ppid in keep:
                    keep.add(pid)
                    tree.add(pid)
                else:
                    keep.discard(pid)  # a reused pid, outside the tree now
            scrubbing = pid not in keep
            if scrubbing and ev in (CT_EV_EXEC, CT_EV_TASK) and len(pl) >= FIXED_LEN:
                raw = record(RAW_RING, scrubbed_exec(pl) + ARGV)
                n_scrubbed += 1
        out.append(raw)
    with open(dst, "wb") as f:
        f.write(b"".join(out))
    if tree_out:
        with open(tree_out, "w") as f:
            f.write("[%s]\n" % ",".join(str(p) for p in sorted(tree)))
    print(
        "scrub.py: %d exec records of processes outside the tree of %d scrubbed, %d test dir "
        "lookups dropped; %d processes in the tree" % (n_scrubbed, root, n_dropped, len(tree)),
        file=sys.stderr,
    )


main()
