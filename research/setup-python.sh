#!/usr/bin/env bash
# Creates (or refreshes) one of the research part's Python environments, and reinstalls only when its
# requirements changed, so a second run costs a second.
#   research/setup-python.sh            .venv/research: pegasuspy 1.10.2 and the rest of the image's
#                                       pinned set, plus pytest (QC script tests). About 80 s on 2 cores
#                                       from an empty pip cache.
#   research/setup-python.sh requests   .venv/requests: the SageMaker Python SDK the notebook pins, moto,
#                                       pytest (test/requests: captured requests vs the API models).
# Each environment is its own venv: the notebook's SDK runs in Studio's default environment, never in
# the Pegasus one, and their numpy/pandas pins differ.
set -euo pipefail
cd "$(dirname "$0")/.."

env="${1:-research}"
case "$env" in
  research) requirements=(test/research/requirements.txt research/image/requirements.txt) ;;
  requests) requirements=(test/requests/requirements.txt) ;;
  *)
    echo "setup-python: unknown environment '$env' (research or requests)" >&2
    exit 2
    ;;
esac
venv=".venv/$env"
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

wanted="$(cat "${requirements[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  echo "setup-python: $venv is up to date"
  exit 0
fi

start=$(date +%s)
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "${requirements[0]}"
echo "$wanted" >"$stamp"
echo "setup-python: installed ${requirements[0]} into $venv in $(($(date +%s) - start)) s"
