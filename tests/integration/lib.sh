# Shared by the integration tests (sourced, not run; ctest runs only test_*.sh).
# Tally: ok / bad "what" / check "what" COMMAND...; end with tally_end.
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
# The closing line CI reads ("N passed, M failed"), and the exit status.
tally_end() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; }

# start_badauth NAME ARGS...: our fault-injecting server (tests/peers), its query log in
# $work/NAME.log; waits until it is ready. Needs $work and a pids array (for cleanup); stops
# by itself after ${BADAUTH_MAX_SECONDS:-170} s.
start_badauth() {
    local name=$1; shift
    "$RD_BUILD/badauth" --max-seconds "${BADAUTH_MAX_SECONDS:-170}" "$@" \
        > "$work/$name.log" 2> "$work/$name.err" &
    pids+=($!)
    for _ in $(seq 100); do grep -q ready "$work/$name.err" && return 0; sleep 0.05; done
    echo "badauth $name did not start:"; cat "$work/$name.err"; exit 1
}
