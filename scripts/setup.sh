#!/usr/bin/env bash
# Creates or refreshes the project's virtual environment (.venv) from requirements.txt.
# Called by make whenever requirements.txt is newer than the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  # Rasa 3.6 needs Python 3.8-3.10. Prefer python3.10 on PATH, then pyenv's copy.
  local candidates=(python3.10)
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' | sort -V -r); do
      candidates+=("$(pyenv root)/versions/$v/bin/python3.10")
    done
  fi
  candidates+=(/root/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10)
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  return 1
}

PY=$(find_python) || {
  echo "Python 3.10 was not found. Install it (for example 'apt-get install python3.10' or 'pyenv install 3.10') and run make again." >&2
  exit 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  echo "==> Creating .venv with $PY"
  rm -rf .venv
  "$PY" -m venv .venv
fi
echo "==> Installing pinned packages from requirements.txt (about a minute on first run)"
.venv/bin/python -m pip install --disable-pip-version-check --progress-bar on -r requirements.txt 2>&1 \
  | grep -vE "^(Requirement already satisfied|WARNING: Location)" || true
.venv/bin/python -m pip check
touch .venv/.installed
echo "==> Environment ready"
