#!/usr/bin/env bash
# vsock-wait.sh SECS WHAT ARGS...: poll until WHAT holds, for at most SECS seconds; exit 0
# once it does, 1 (with a line on stderr) if it never did. Used by tests/vm/vsock.bats.
#
# A process of its own because inside a bats test every shell command also runs bats' DEBUG
# trap, which under TCG costs a few hundred ms per command: a polling loop in the test would
# take a second per round. Here a round costs a few ms, and no fork (sleep(1) costs ~0.25 s).
#
#   file PATH            PATH exists (ready files are renamed into place complete)
#   gone PID             PID is a zombie or gone: its fds, and so its CIDs, are released
#   lines N FILE TEXT    FILE has at least N lines containing TEXT
#   monitor SOCK         the QEMU human monitor on the Unix socket SOCK has greeted us with
#                        "(qemu)", i.e. QEMU reached its main loop, after realizing every
#                        device (the socket file itself appears earlier, with the chardevs)
set -uo pipefail

(($# >= 3)) || {
	echo "usage: $0 SECS file|gone|lines|monitor ARGS..." >&2
	exit 2
}
secs=$1 what=$2
shift 2
deadline=$((SECONDS + secs))
# read -t on a pipe whose write end we hold ourselves: a sleep without a fork.
exec {nap}<> <(:)

file() { [[ -e "$1" ]]; }

gone() {
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 0
	st=${st##*) } # comm may hold spaces and parens
	[[ "${st%% *}" == Z ]]
}

lines() {
	local n=0 l
	[[ -e "$2" ]] || return 1
	while IFS= read -r l; do
		[[ "$l" == *"$3"* ]] && ((++n >= $1)) && return 0
	done <"$2"
	return 1
}

monitor() {
	[[ -S "$1" ]] || return 1
	# The system python: the host's python3 may be a pyenv shim that needs the host's $HOME.
	timeout "$((deadline - SECONDS + 1))" /usr/bin/python3 - "$1" <<-'EOF'
		import socket, sys
		s = socket.socket(socket.AF_UNIX)
		s.connect(sys.argv[1])
		buf = b""
		while b"(qemu)" not in buf:
		    d = s.recv(4096)
		    if not d:
		        sys.exit(1)
		    buf += d
	EOF
}

case "$what" in
file | gone | lines | monitor) ;;
*)
	echo "$0: unknown condition '$what'" >&2
	exit 2
	;;
esac

until "$what" "$@"; do
	if ((SECONDS >= deadline)); then
		echo "vsock-wait: no '$what $*' after ${secs}s" >&2
		exit 1
	fi
	read -rt 0.02 -u "$nap" || true
done
