#!/usr/bin/env bash
# Idempotent set-up of a fresh clone: a virtualenv in .venv with the project and its test
# tools installed. Needs only Python 3.11+ and a Java 17+ runtime on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin="${PYTHON:-python3}"
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "bootstrap: Python 3.11+ is required (found: $("$python_bin" --version 2>&1))." >&2
  exit 1
fi
if ! command -v java >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then
  echo "bootstrap: Java 17+ is required for Spark (no 'java' on PATH and no JAVA_HOME)." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
# Reinstall only when the dependency list changed since the last successful install.
stamp=.venv/.lakehouse_installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  echo "$want" > "$stamp"
fi

# The browser test of the Dagster UI drives Debian's headless Chromium.
bash scripts/install_browser.sh || echo "bootstrap: no browser; the browser test will fail" >&2
