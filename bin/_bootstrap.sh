# Sourced by bin/demo and bin/test: create .venv and install the project when
# pyproject.toml changed since the last install. Needs only python3 (>= 3.11).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TENDON_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "tendon-pipeline needs Python 3.11 or newer; '$PY' is $("$PY" --version 2>&1). Set PYTHON=/path/to/python3.11." >&2
    exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtual environment in $VENV" >&2
    "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.tendon-installed"
WANT="$(sha256sum < "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || ! grep -qx -- "$WANT" "$STAMP"; then
    echo "==> installing tendon-pipeline and its dependencies (first run takes about a minute)" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
    # One environment for the job and the tests: the test extras are small.
    if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[test]" > "$VENV/install.log" 2>&1; then
        cat "$VENV/install.log" >&2
        echo "installing failed (log above, also in $VENV/install.log)" >&2
        exit 1
    fi
    echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
# Quiet, local-only Prefect for the embedded default.
export DO_NOT_TRACK=1
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_LOGGING_LEVEL="${PREFECT_LOGGING_LEVEL:-WARNING}"
export PREFECT_SERVER_LOGGING_LEVEL="${PREFECT_SERVER_LOGGING_LEVEL:-CRITICAL}"
export PREFECT_LOGGING_TO_API_ENABLED=false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="${PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS:-120}"
