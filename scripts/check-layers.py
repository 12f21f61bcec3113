#!/usr/bin/env python3
# The layer rule of docs/architecture.md: every #include "x.h" in userspace/ must name a header
# of the same layer or of a layer the including one may use, and modules (x.c plus x.h) must
# not include each other in a circle. Prints one line per violation; exit 1 if any.
import os
import re
import sys

ALLOWED = {
    "lib": {"lib"},
    "core": {"lib", "core"},
    "kernel": {"lib", "core", "kernel"},
    "output": {"lib", "core", "output"},
    "cmd": {"lib", "core", "kernel", "output", "cmd"},
}
root = sys.argv[1] if len(sys.argv) > 1 else "userspace"
layer_of = {}  # header basename -> layer (a basename is unique across userspace/)
sources = []
for layer in ALLOWED:
    d = os.path.join(root, layer)
    for name in sorted(os.listdir(d)):
        if name.endswith(".h"):
            if name in layer_of:
                print(f"{d}/{name}: the name is taken in userspace/{layer_of[name]}/ too")
                sys.exit(1)
            layer_of[name] = layer
        if name.endswith((".c", ".h")):
            sources.append((layer, os.path.join(d, name)))
bad = 0
deps = {}  # module -> modules it includes
for layer, path in sources:
    module = layer + "/" + os.path.splitext(os.path.basename(path))[0]
    for n, line in enumerate(open(path), 1):
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if not m:
            continue
        inc = m.group(1)
        if inc.endswith(".skel.h"):
            target = "kernel"  # BPF skeletons: the kernel edge alone loads BPF
        elif inc in layer_of:
            target = layer_of[inc]
            other = target + "/" + os.path.splitext(inc)[0]
            if other != module:
                deps.setdefault(module, set()).add(other)
        elif os.path.exists(os.path.join("include", inc)):
            continue  # the BPF/userspace ABI, for every layer
        else:
            print(f"{path}:{n}: includes {inc}, which no layer has")
            bad += 1
            continue
        if target not in ALLOWED[layer]:
            print(f"{path}:{n}: {layer} may not include {inc} ({target})")
            bad += 1

# circles between modules: depth-first search for a back edge
state = {}
def visit(m, stack):
    state[m] = 1
    stack.append(m)
    for d in sorted(deps.get(m, ())):
        if state.get(d) == 1:
            print("circle: " + " -> ".join(stack[stack.index(d):] + [d]))
            global bad
            bad += 1
        elif d not in state:
            visit(d, stack)
    stack.pop()
    state[m] = 2
for m in sorted(deps):
    if m not in state:
        visit(m, [])
if bad:
    print(f"check-layers: {bad} violation(s); the rule is in docs/architecture.md", file=sys.stderr)
sys.exit(1 if bad else 0)
