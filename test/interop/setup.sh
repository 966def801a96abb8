#!/usr/bin/env bash
# Installs what the interop suite runs, idempotently: the Java programs (Maven, Java 17) and a
# Python virtual environment with the pinned extended clients. A rerun with nothing changed does no
# network work and takes a second or two.
#
#   INTEROP_M2=/path   use this Maven local repository instead of ~/.m2 (e.g. to time a cold install)
#   INTEROP_FORCE=1    rebuild the jar and recreate the venv
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
java_dir="$here/java"
jar="$java_dir/target/interop-clients.jar"
venv="$root/.venv/interop"
requirements="$here/python/requirements.txt"
stamp="$venv/.requirements.installed"
force="${INTEROP_FORCE:-}"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "interop setup: '$1' is not on PATH ($2)" >&2; exit 1; }
}
need java "Java 17 runs the Java extended clients"
need mvn "Maven builds test/interop/java"
need python3 "Python 3 runs the Python extended clients"

java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
if [ "${java_major%%.*}" -lt 17 ] 2>/dev/null; then
  echo "interop setup: Java 17 or newer is required, found $java_major" >&2
  exit 1
fi

started=$SECONDS
# Java: rebuild only when the pom or a source file is newer than the jar.
if [ -n "$force" ] || [ ! -f "$jar" ] || [ -n "$(find "$java_dir/pom.xml" "$java_dir/src" -newer "$jar" -print -quit)" ]; then
  echo "interop setup: building test/interop/java (Maven)"
  mvn_args=(-B -q --no-transfer-progress -Dstyle.color=never -f "$java_dir/pom.xml")
  [ -n "${INTEROP_M2:-}" ] && mvn_args+=("-Dmaven.repo.local=$INTEROP_M2")
  # clean: a stale jar in target/lib (an older SDK) would otherwise stay on the classpath.
  mvn "${mvn_args[@]}" clean package
fi

# Python: recreate the venv only when requirements.txt changed since it was installed.
if [ -n "$force" ] || [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "interop setup: creating $venv (pip, pinned requirements)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
  cp "$requirements" "$stamp"
fi

echo "interop setup: ready in $((SECONDS - started)) s (jar: ${jar#"$root/"}, venv: ${venv#"$root/"})"
