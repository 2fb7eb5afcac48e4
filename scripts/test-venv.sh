#!/usr/bin/env bash
# Prints the path of a Python that has pyarrow, for the tests that read exported Parquet back
# with an independent reader. The virtualenv is made once and kept in the user's cache folder
# (TOPICSCOPE_TEST_VENV overrides where), so later runs cost nothing; a lock keeps test
# binaries that start at once from installing twice.
set -euo pipefail
PYARROW_VERSION=25.0.1
venv="${TOPICSCOPE_TEST_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/topicscope/test-venv-pyarrow-$PYARROW_VERSION}"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if ! "$venv/bin/python" -c "import pyarrow.parquet" >/dev/null 2>&1; then
  echo "test-venv: installing pyarrow $PYARROW_VERSION into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pyarrow==$PYARROW_VERSION" >&2
fi
echo "$venv/bin/python"
