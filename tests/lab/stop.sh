#!/usr/bin/env bash
# Stop the lab servers started by tests/lab/start.sh DIR.
#
#   tests/lab/stop.sh DIR [instance...]
#
# With instance names, stops only those (e.g. to take a server down in the middle of
# a test; start it again with start.sh DIR instance). Only processes whose pid files
# are under DIR, and whose command line names that same DIR, are signalled: SIGTERM,
# then SIGKILL after 5 seconds. Logs and configs stay in DIR.
set -uo pipefail

die() { echo "lab/stop.sh: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: $0 DIR [instance...]"
[ -d "$1" ] || die "no such directory: $1"
dir=$(cd "$1" && pwd)
shift
want=" $* "

ours() { # pid marker: is pid alive and is marker on its command line?
    [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF -- "$2"
}

pids=()
pidfiles=()
for pf in "$dir"/*/nsd.pid "$dir"/*/sink.pid; do
    [ -s "$pf" ] || continue
    d=${pf%/*}
    name=${d##*/}
    [ "$want" = "  " ] || [[ $want == *" $name "* ]] || continue
    pid=$(cat "$pf")
    case $pf in
    */nsd.pid) marker="$d/nsd.conf" ;;
    *) marker="$d/sink.pid" ;;
    esac
    if [[ $pid =~ ^[0-9]+$ ]] && ours "$pid" "$marker"; then
        kill -TERM "$pid" 2>/dev/null && pids+=("$pid:$marker")
    fi
    pidfiles+=("$pf")
done

# wait for them to go, up to 5 s, then SIGKILL what is left
for _ in $(seq 100); do
    left=()
    for p in "${pids[@]+"${pids[@]}"}"; do
        ours "${p%%:*}" "${p#*:}" && left+=("$p")
    done
    pids=("${left[@]+"${left[@]}"}")
    [ ${#pids[@]} -eq 0 ] && break
    sleep 0.05
done
for p in "${pids[@]+"${pids[@]}"}"; do
    echo "lab/stop.sh: pid ${p%%:*} did not stop on SIGTERM; killing it" >&2
    kill -KILL "${p%%:*}" 2>/dev/null
done
rm -f "${pidfiles[@]+"${pidfiles[@]}"}"
exit 0
