#!/usr/bin/env bash
# Usage: scripts/layer-venv.sh BASE_VENV NEW_VENV
# Make NEW_VENV, a venv that sees BASE_VENV's packages below its own: what `python -m venv
# --system-site-packages` does for the system Python, done for another venv (a .pth file that
# adds BASE_VENV's site-packages after NEW_VENV's). pip in NEW_VENV counts BASE_VENV's packages
# as installed and never changes them (it does not uninstall outside its own environment), so
# `make test-coqui` tests exactly "make install + make coqui" without touching .venv.
set -euo pipefail
base=$(cd "$1" && pwd -P)
new=$2
rm -rf "$new"
"$base/bin/python" -m venv "$new"
purelib='import sysconfig; print(sysconfig.get_paths()["purelib"])'
base_site=$("$base/bin/python" -c "$purelib")
new_site=$("$new/bin/python" -c "$purelib")
echo "import site; site.addsitedir('$base_site')" > "$new_site/_base_venv.pth"
"$new/bin/python" -c "import numpy, yaml" # the base venv's packages are visible
