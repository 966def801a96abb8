#!/usr/bin/env bash
# Creates (or refreshes) the Python environment of the research part at .venv/research: pegasuspy
# 1.10.2 and the rest of the image's pinned set, plus pytest. Reinstalls only when a requirements file
# changed, so a second run costs a second. Measured on 2 cores: about 80 s from an empty pip cache.
#   usage: research/setup-python.sh        (then: .venv/research/bin/python -m pytest test/research)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv/research
requirements=test/research/requirements.txt
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null; then
  echo "setup-python: $python not found; install Python 3.11 (pegasuspy 1.10.2 ships wheels for it)" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 10) else 1)'; then
  echo "setup-python: $("$python" --version 2>&1) is too old; pegasuspy 1.10.2 needs Python >= 3.10" >&2
  exit 1
fi

wanted="$(cat "$requirements" research/image/requirements.txt | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  echo "setup-python: $venv is up to date"
  exit 0
fi

start=$(date +%s)
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
echo "$wanted" >"$stamp"
echo "setup-python: installed $requirements into $venv in $(($(date +%s) - start)) s"
