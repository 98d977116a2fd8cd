#!/usr/bin/env bash
# What `make` needs beyond the venv, installed with apt-get where we are root on Debian/Ubuntu (elsewhere it says
# what is missing).   Usage: [PY=.venv/bin/python] tools/ensure.sh data|npm|chromium ...
#   data      Fashion-MNIST: Debian's dataset-fashion-mnist, else the loader ($PY) downloads it into the user's cache
#   npm       fetches MathJax once for the docs (tools/build_docs.py)
#   chromium  the docs' browser test (tools/test_docs.py), which reports itself NOT RUN without it
set -uo pipefail
have() { command -v "$1" >/dev/null 2>&1; }
apt_install() {   # quietly, refreshing the package lists if needed; fails where apt-get is not ours to run
  have apt-get && [ "$(id -u)" = 0 ] || return 1
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$1" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$1" >/dev/null; }
}
for tool in "$@"; do case $tool in
  data) { [ -n "${FASHION_MNIST_DIR:-}" ] || [ -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; } && continue
    echo "Installing Fashion-MNIST from Debian (dataset-fashion-mnist)..."; apt_install dataset-fashion-mnist && continue
    "${PY:-python3}" -c "from accel_sgd.data import load_fashion_mnist; print('Fashion-MNIST ready in', load_fashion_mnist().path)" || exit 1 ;;
  npm) have npm || { echo "Installing npm (Debian) for MathJax..."; apt_install npm; } \
    || echo "npm is not installed: the docs build needs it once to fetch MathJax (or set ACCEL_SGD_MATHJAX)" >&2 ;;
  chromium) { [ -n "${CHROMIUM:-}" ] || have chromium || have chromium-browser || have google-chrome; } && continue
    echo "Installing Chromium (Debian) for the docs browser test (about a minute, once)..."
    apt_install chromium || echo "Chromium is not installed: the docs browser test will report NOT RUN" >&2 ;;
esac; done
exit 0
