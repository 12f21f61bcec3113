#!/usr/bin/python3
"""check-addrs.py CAPTURE...: fail if a --raw capture (.raw or .raw.gz) holds a kernel address.

docs/raw-format.md: the userfaultfd context and f_op of ct_uffd_event, the instance of
ct_vsock_event and the context of a serve key are replaced by small ids (1, 2, ... in order
of first appearance). Two checks, one line per finding on stdout, exit 1 if any:

1. exact: every record is parsed and each of those fields, wherever a record carries one
   (RING, VSOCK_SEED, UFFD_SCAN, UFFD_SERVES, VSOCK_SCAN), must be below 2^32;
2. blind: every 8 bytes at every file offset, read as a little-endian u64, must not look like
   an x86_64 kernel pointer: in the direct map, vmalloc or vmemmap range
   [0xffff800000000000, 0xffffff0000000000) or the kernel text and module range
   [0xffffffff80000000, 0xffffffffff600000), 8-byte aligned, with nonzero low 32 bits. (The
   last two conditions skip the windows that straddle a small field and a negative s32,
   e.g. a CID's zero high bytes then ret -EADDRINUSE, ff ff ff 9e: those are everywhere in
   a retry loop.)

With -v, prints what was checked.
"""
import gzip
import struct
import sys

MAGIC = b"CTRAW\r\n\x1a"
RAW_RING, RAW_VSOCK_SEED, RAW_UFFD_SCAN, RAW_UFFD_SERVES, RAW_VSOCK_SCAN = 2, 5, 32, 33, 38
UFFD_TYPES, UFFD_FILE, VSOCK_TYPES = (10, 11, 12), 12, (6, 7, 8)
ID_MAX = 1 << 32


def looks_like_kernel_pointer(v):
    in_range = 0xFFFF800000000000 <= v < 0xFFFFFF0000000000 or (
        0xFFFFFFFF80000000 <= v < 0xFFFFFFFFFF600000
    )
    return in_range and v % 8 == 0 and v & 0xFFFFFFFF != 0


def masked_fields(rtype, pl):
    """(name, value) of every masked field the record carries."""
    u64 = lambda off: struct.unpack_from("<Q", pl, off)[0]
    u32 = lambda off: struct.unpack_from("<I", pl, off)[0]

    def uffd_event(base, what):
        ev = u32(base)
        out = [(what + " ctx", u64(base + 48))]
        if ev == UFFD_FILE:
            out.append((what + " f_op", u64(base + 56)))
        return out

    if rtype == RAW_RING and len(pl) >= 80:
        ev = u32(0)
        if ev in UFFD_TYPES:
            return uffd_event(0, "uffd event")
        if ev in VSOCK_TYPES:
            return [("vsock event instance", u64(48))]
    elif rtype == RAW_VSOCK_SEED and len(pl) >= 80:
        return [("vsock seed instance", u64(48))]
    elif rtype == RAW_UFFD_SCAN:
        n = u32(8)
        return [f for i in range(n) for f in uffd_event(12 + 80 * i, "uffd scan")]
    elif rtype == RAW_UFFD_SERVES:
        n = u32(0)
        return [("serve key ctx", u64(4 + 48 * i)) for i in range(n)]
    elif rtype == RAW_VSOCK_SCAN:
        return [("vsock scan instance", u64(0))]
    return []


def check(path, verbose):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    bad = 0
    if data[:8] != MAGIC:
        print("%s: not a cidtrace raw capture" % path)
        return 1
    (off,) = struct.unpack_from("<H", data, 10)
    nrec = nfields = 0
    while off + 8 <= len(data):
        rtype, _, length = struct.unpack_from("<HHI", data, off)
        pl = data[off + 8 : off + 8 + length]
        for name, v in masked_fields(rtype, pl):
            nfields += 1
            if v >= ID_MAX:
                print("%s: record at %d: %s is %#x, not an id" % (path, off, name, v))
                bad += 1
        nrec += 1
        off += 8 + length
    if off != len(data):
        print("%s: %d bytes after the last whole record" % (path, len(data) - off))
        bad += 1
    for i in range(len(data) - 7):
        (v,) = struct.unpack_from("<Q", data, i)
        if looks_like_kernel_pointer(v):
            print("%s: offset %d: %#x looks like a kernel address" % (path, i, v))
            bad += 1
    if verbose:
        print(
            "%s: %d bytes, %d records, %d masked fields checked, %d 8-byte windows scanned"
            % (path, len(data), nrec, nfields, max(len(data) - 7, 0))
        )
    return bad


def main():
    args = sys.argv[1:]
    verbose = bool(args) and args[0] == "-v"
    if verbose:
        args = args[1:]
    if not args:
        sys.exit("usage: check-addrs.py [-v] CAPTURE...")
    bad = sum(check(p, verbose) for p in args)
    sys.exit(1 if bad else 0)


main()
