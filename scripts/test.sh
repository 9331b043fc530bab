#!/usr/bin/env bash
# Run every test: the Odoo tests of this repository's addons on a fresh
# database, then the repository-level pytest suite in tests/.
#
#   scripts/test.sh
#
# The last line printed is "N passed, N failed" (Odoo + pytest together; Odoo
# errors and skipped tests count as failed). Exit status: 0 when nothing
# failed, 1 when something failed, 2 when the environment is not set up.
#
# Environment:
#   ODOO_SRC      Odoo 18.0 source checkout (default /opt/odoo/18.0)
#   VENV          virtualenv made by scripts/setup.sh (default /opt/odoo/venv)
#   TEST_MODULES  comma-separated modules to install and test
#                 (default: every addon folder of this repository, and the
#                 test-only addons of tests/addons)
#   TEST_TAGS     --test-tags value (default: /<module> for each of TEST_MODULES)
#   CORE_TESTS    1 (default): also run Odoo's own tests given in CORE_TAGS
#                 (default /sale,/account,/stock), installing those modules too,
#                 to check that our addons do not break them; the ones listed in
#                 tests/core_known_failures.txt (failing without our addons too)
#                 are excluded. CORE_TESTS=0: only our tests (a few minutes).
#   EXTRA_ADDONS_PATH  comma-separated extra addons folders (put before ours)
#   TEST_HTTP_PORT     HTTP port for HttpCase/tour tests (default: first free from 8169)
#   TEST_LOG_DIR       where the Odoo log is written (default /tmp)
#   KEEP_DB=1          keep the test database (billing_test_<pid>) and its filestore
#   SKIP_PYTEST=1      only run the Odoo tests (the summary says so)
#   REPARSE_LOG=FILE   do not run Odoo: report on an earlier run's log (debugging)
#   TEST_TIMEOUT       seconds the Odoo run may take before it is killed and
#                      counted as failed (default 3600; CI allows 90 min in all)
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-/opt/odoo/18.0}"
VENV="${VENV:-/opt/odoo/venv}"
TEST_LOG_DIR="${TEST_LOG_DIR:-/tmp}"
DB="billing_test_$$"

setup_hint="Run scripts/setup.sh (or scripts/setup.sh --no-demo), or set ODOO_SRC / VENV to an existing Odoo 18.0 checkout / virtualenv."
not_ready() {
    printf 'test.sh: ERROR: %s\n%s\n' "$1" "$setup_hint" >&2
    echo "0 passed, 1 failed"
    exit 2
}

# --- a. environment -------------------------------------------------------
[ -f "$ODOO_SRC/odoo-bin" ] || not_ready "Odoo not found: '$ODOO_SRC/odoo-bin' does not exist (ODOO_SRC=$ODOO_SRC)."
[ -x "$VENV/bin/python" ] || not_ready "virtualenv not found: '$VENV/bin/python' does not exist (VENV=$VENV)."
PY="$VENV/bin/python"
"$PY" -c 'import odoo.release as r; assert r.version_info[:2] == (18, 0)' 2>/dev/null \
    || not_ready "'import odoo' (18.0) fails with $PY: the venv lacks Odoo's requirements or the odoo-src.pth file."

# --- b. tools for tours and reports ----------------------------------------
export PATH="$VENV/bin:$PATH"
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null \
    || not_ready "no chromium on PATH: Odoo's tour (HttpCase.start_tour) tests need it (apt-get install chromium)."
"$PY" -c 'import websocket' 2>/dev/null \
    || not_ready "websocket-client is not importable in $VENV: tour tests would be skipped."
"$PY" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("odoo.addons.queue_job") is None)' 2>/dev/null \
    || not_ready "OCA's queue_job is not installed in $VENV (requirements/oca.txt): invoice_manager_queue and its tests need it."
"$VENV/bin/wkhtmltopdf" --version 2>/dev/null | grep -q "with patched qt" \
    || not_ready "$VENV/bin/wkhtmltopdf (0.12.4 with patched qt) is missing: PDF reports cannot be rendered."
if ! psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    # try to bring the local cluster up, as setup.sh does
    command -v pg_lsclusters >/dev/null && pg_lsclusters --no-header 2>/dev/null | while read -r v n _ s _; do
        [ "$s" = down ] && pg_ctlcluster --skip-systemctl-redirect "$v" "$n" start >/dev/null 2>&1
    done
    sleep 1
    psql -d postgres -Atqc 'select 1' >/dev/null 2>&1 \
        || not_ready "cannot connect to PostgreSQL as '$(id -un)' through the local socket."
fi

# --- c. run Odoo's tests on a fresh database --------------------------------
mapfile -t OUR_ADDONS < <(cd "$REPO" && for d in */; do [ -f "$d/__manifest__.py" ] && echo "${d%/}"; done)
# Test-only addons (tests/addons: not shipped) are installed and tested too.
TEST_ADDONS_DIR="$REPO/tests/addons"
mapfile -t TEST_ADDONS < <([ -d "$TEST_ADDONS_DIR" ] && cd "$TEST_ADDONS_DIR" && for d in */; do [ -f "$d/__manifest__.py" ] && echo "${d%/}"; done)
if [ -n "${TEST_MODULES:-}" ]; then
    MODULES="$TEST_MODULES"
else
    MODULES="$(IFS=,; echo "${OUR_ADDONS[*]} ${TEST_ADDONS[*]}" | tr ' ' ',' | sed 's/,,*/,/g; s/^,//; s/,$//')"
fi
[ -n "$MODULES" ] || { echo "test.sh: ERROR: no addon to test in $REPO" >&2; echo "0 passed, 1 failed"; exit 1; }
TAGS="${TEST_TAGS:-$(echo "$MODULES" | sed 's/\([^,]*\)/\/\1/g')}"
CORE_MODS=""
if [ "${CORE_TESTS:-1}" = 1 ]; then
    CORE_TAGS="${CORE_TAGS:-/sale,/account,/stock}"
    TAGS="$TAGS,$CORE_TAGS"
    # Odoo's tests that fail here without our addons too (see the file).
    KNOWN="$REPO/tests/core_known_failures.txt"
    if [ -f "$KNOWN" ]; then
        while read -r spec; do
            case "$spec" in ""|"#"*) continue ;; esac
            TAGS="$TAGS,-$spec"
        done < "$KNOWN"
    fi
    # "/sale:TestX.test_y" and "-/account" style specs: install the named modules
    for spec in ${CORE_TAGS//,/ }; do
        case "$spec" in -*) continue ;; esac
        mod="$(echo "$spec" | sed -n 's|^[^/]*/\([A-Za-z0-9_]*\).*|\1|p')"
        [ -n "$mod" ] || continue
        CORE_MODS="$CORE_MODS,$mod"
        case ",$MODULES," in *",$mod,"*) ;; *) MODULES="$MODULES,$mod" ;; esac
    done
fi

ADDONS_PATH="$REPO,$ODOO_SRC/addons"
[ ${#TEST_ADDONS[@]} -gt 0 ] && ADDONS_PATH="$TEST_ADDONS_DIR,$ADDONS_PATH"
[ -n "${EXTRA_ADDONS_PATH:-}" ] && ADDONS_PATH="$EXTRA_ADDONS_PATH,$ADDONS_PATH"

if [ -n "${TEST_HTTP_PORT:-}" ]; then
    PORT="$TEST_HTTP_PORT"
else
    PORT="$("$PY" - <<'PY'
import socket
for port in range(8169, 8269):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
PY
)"
fi

mkdir -p "$TEST_LOG_DIR"
LOG="$TEST_LOG_DIR/billing_test_$$.log"
DATA_DIR="$(mktemp -d /tmp/billing_test_data_XXXXXX)"
cleanup() {
    if [ "${KEEP_DB:-0}" = 1 ]; then
        echo "test.sh: KEEP_DB=1: kept database $DB and data dir $DATA_DIR" >&2
    else
        dropdb --if-exists "$DB" >/dev/null 2>&1
        rm -rf "$DATA_DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dropdb --if-exists "$DB" >/dev/null 2>&1
ODOO_CMD=("$PY" "$ODOO_SRC/odoo-bin" -d "$DB" --addons-path="$ADDONS_PATH" --data-dir="$DATA_DIR"
    -i "$MODULES" --test-enable --test-tags "$TAGS" --stop-after-init --without-demo=all
    --http-port "$PORT" --http-interface 127.0.0.1 --log-level=test --max-cron-threads=0
    --workers=0)
echo "==> Odoo tests: modules $MODULES, tags $TAGS, database $DB, port $PORT"
echo "    log: $LOG"
echo "    \$ ${ODOO_CMD[*]}"
T0=$(date +%s)
TEST_TIMEOUT="${TEST_TIMEOUT:-3600}"
if [ -n "${REPARSE_LOG:-}" ]; then
    # debugging aid for this script: read the verdict of an earlier run's log
    LOG="$REPARSE_LOG"; ODOO_RC="${REPARSE_RC:-0}"
    echo "    REPARSE_LOG: not running Odoo, reading $LOG"
else
    # timeout(1) signals the whole process group: Odoo, chromium and wkhtmltopdf
    timeout --kill-after=30 "$TEST_TIMEOUT" "${ODOO_CMD[@]}" </dev/null 2>&1 | tee "$LOG"
    ODOO_RC=${PIPESTATUS[0]}
fi
ODOO_SECS=$(( $(date +%s) - T0 ))

# --- d. read Odoo's verdict from its log ------------------------------------
PROBLEMS=()
o_failed=0; o_errors=0; o_total=0
summary="$(grep -aoE '[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests' "$LOG" | tail -n 1)"
if [ -n "$summary" ]; then
    read -r o_failed o_errors o_total < <(echo "$summary" | sed -E 's/([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests/\1 \2 \3/')
else
    PROBLEMS+=("no Odoo test summary line ('N failed, N error(s) of N tests') in the log: Odoo stopped before the end of its tests")
    # still count the failures it logged before stopping
    o_failed="$(grep -acE ' ERROR [^ ]+ odoo\.addons\.[^ ]+: FAIL: ' "$LOG")"
    o_errors="$(grep -acE ' ERROR [^ ]+ odoo\.addons\.[^ ]+: ERROR: ' "$LOG")"
    o_total=$(( o_failed + o_errors ))
fi
# Skipped tests count as failed (a tour skipped for want of chromium or
# websocket-client must not pass unnoticed). The one exception: Odoo's own
# tests run with CORE_TESTS=1 that skip on their own preconditions (e.g. "Sale
# App is not installed"); those are listed, and counted neither way.
SKIP_RE=' INFO [^ ]+ odoo\.[^ ]+: skipped [^ ]+ : '
BROWSER_RE='chrom|websocket|devtools|browser'
o_skipped=0; o_skip_allowed=0; SKIP_LINES=(); ALLOWED_LINES=()
while IFS= read -r l; do
    [ -n "$l" ] || continue
    mod="$(echo "$l" | sed -nE 's/.* odoo\.addons\.([A-Za-z0-9_]+)\.[^ ]*: skipped .*/\1/p')"
    if [ -n "$mod" ] && [[ ",$CORE_MODS," == *",$mod,"* ]] \
        && ! echo "${l#*: skipped }" | grep -qiE "$BROWSER_RE"; then
        o_skip_allowed=$((o_skip_allowed + 1)); ALLOWED_LINES+=("    [$mod] skipped ${l#*: skipped }")
    else
        o_skipped=$((o_skipped + 1)); SKIP_LINES+=("    [${mod:-?}] skipped ${l#*: skipped }")
    fi
done < <(grep -aE "$SKIP_RE" "$LOG")
o_passed=$(( o_total - o_failed - o_errors - o_skipped - o_skip_allowed ))
[ "$o_passed" -lt 0 ] && o_passed=0
if [ "$o_skipped" -gt 0 ]; then
    PROBLEMS+=("$o_skipped Odoo test(s) skipped (counted as failed):" "${SKIP_LINES[@]:0:20}")
fi
if [ "$o_skip_allowed" -gt 0 ]; then
    PROBLEMS+=("$o_skip_allowed test(s) of Odoo's own modules skipped on their own preconditions (CORE_TESTS; not counted):" "${ALLOWED_LINES[@]:0:20}")
fi
if [ "$ODOO_RC" -eq 124 ] || [ "$ODOO_RC" -eq 137 ]; then
    PROBLEMS+=("Odoo was killed after TEST_TIMEOUT=${TEST_TIMEOUT}s (a hung test? the last test started: $(grep -aoE 'Starting [A-Za-z0-9_.]+' "$LOG" | tail -n 1 | cut -d' ' -f2))")
elif [ "$ODOO_RC" -ne 0 ] && [ $(( o_failed + o_errors )) -eq 0 ]; then
    PROBLEMS+=("Odoo exited with status $ODOO_RC")
fi
bad_lines="$(grep -aE 'Failed to initialize database| CRITICAL | (ERROR|CRITICAL) [^ ]+ odoo\.modules\.(loading|registry)' "$LOG" \
    | grep -av 'At least one test failed when loading the modules' | head -n 20)"
if [ -n "$bad_lines" ]; then
    PROBLEMS+=("Odoo logged errors while loading modules:")
    while IFS= read -r l; do PROBLEMS+=("    $l"); done <<< "$bad_lines"
fi
# every requested module must have been installed
for mod in ${MODULES//,/ }; do
    [ -n "${REPARSE_LOG:-}" ] && break
    state="$(psql -d "$DB" -Atqc "select state from ir_module_module where name='$mod'" 2>/dev/null)"
    [ "$state" = installed ] || PROBLEMS+=("module $mod is not installed (state: ${state:-unknown})")
done
# an addon with a tests/ package whose tests did not run at all is a failure too
if [ "$o_total" -eq 0 ] && [ -n "$summary" ]; then
    for mod in ${MODULES//,/ }; do
        for d in ${ADDONS_PATH//,/ }; do
            if [ -f "$d/$mod/tests/__init__.py" ]; then
                PROBLEMS+=("module $mod has tests but Odoo ran 0 tests")
                break
            fi
        done
    done
fi
o_bad=$(( o_failed + o_errors + o_skipped ))

# --- e. repository-level pytest suite ---------------------------------------
p_passed=0; p_failed=0; p_errors=0; p_skipped=0; PYTEST_RC=0; PYTEST_SECS=0
if [ "${SKIP_PYTEST:-0}" = 1 ]; then
    PROBLEMS+=("SKIP_PYTEST=1: the pytest suite was not run")
elif [ -d "$REPO/tests" ]; then
    echo
    echo "==> pytest $REPO/tests"
    PLOG="$TEST_LOG_DIR/billing_pytest_$$.log"
    T1=$(date +%s)
    (cd "$REPO" && BILLING_REPO="$REPO" ODOO_SRC="$ODOO_SRC" VENV="$VENV" \
        BILLING_TEST_DB="$DB" BILLING_TEST_DATA_DIR="$DATA_DIR" \
        "$PY" -m pytest tests -q -p no:cacheprovider </dev/null 2>&1) | tee "$PLOG"
    PYTEST_RC=${PIPESTATUS[0]}
    PYTEST_SECS=$(( $(date +%s) - T1 ))
    pline="$(grep -aE '^=*[ ]*([0-9]+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed|warnings?)(, )?)+.* in [0-9.]+s' "$PLOG" | tail -n 1)"
    [ -z "$pline" ] && pline="$(grep -aE '[0-9]+ (passed|failed|errors?)' "$PLOG" | tail -n 1)"
    num() { echo "$pline" | grep -oE "[0-9]+ $1" | head -n 1 | grep -oE '^[0-9]+' || echo 0; }
    p_passed=$(num passed); p_failed=$(num failed); p_errors=$(num 'errors?'); p_skipped=$(num skipped)
    case "$PYTEST_RC" in
        0) ;;
        5) echo "test.sh: pytest collected no test (counted as 0)" ;;
        1) [ $(( p_failed + p_errors )) -gt 0 ] || PROBLEMS+=("pytest exited with status 1 but reported no failure") ;;
        *) PROBLEMS+=("pytest exited with status $PYTEST_RC (interrupted, internal or usage error)") ;;
    esac
    [ "$p_skipped" -gt 0 ] && PROBLEMS+=("$p_skipped pytest test(s) skipped (counted as failed)")
fi
p_bad=$(( p_failed + p_errors + p_skipped ))

# --- f. verdict ---------------------------------------------------------------
extra=0
for p in "${PROBLEMS[@]}"; do case "$p" in "    "*|*"skipped (counted as failed)"*|*"(CORE_TESTS; not counted)"*) ;; *) extra=$((extra + 1)) ;; esac; done
passed=$(( o_passed + p_passed ))
failed=$(( o_bad + p_bad + extra ))
echo
echo "==> Summary"
echo "    Odoo:   $o_total tests: $o_passed passed, $o_failed failed, $o_errors error(s), $o_skipped skipped$( [ "$o_skip_allowed" -gt 0 ] && echo " (+$o_skip_allowed allowed core skips)") (exit $ODOO_RC, ${ODOO_SECS}s, log $LOG)"
echo "    pytest: $p_passed passed, $p_failed failed, $p_errors error(s), $p_skipped skipped (exit $PYTEST_RC, ${PYTEST_SECS}s)"
if [ ${#PROBLEMS[@]} -gt 0 ]; then
    echo "    Problems (each counted as one failure unless counted above):"
    for p in "${PROBLEMS[@]}"; do echo "    - $p"; done
fi
if [ $(( o_failed + o_errors )) -gt 0 ]; then
    echo "    Failing Odoo tests:"
    grep -aE '^[0-9-]+ [0-9:,]+ [0-9]+ ERROR [^ ]+ odoo\.addons\.[^ ]+: (FAIL|ERROR): ' "$LOG" \
        | sed -E 's/.*: (FAIL|ERROR): /      \1: /' | head -n 30
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
