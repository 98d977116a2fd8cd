#!/usr/bin/env bash
# Make sure Fashion-MNIST is on this machine: Debian's package where apt-get is
# available and we are root, else the loader downloads it into the user cache.
set -euo pipefail
python=${1:-python3}
deb_dir=/usr/share/datasets/fashion-mnist
if [ -n "${FASHION_MNIST_DIR:-}" ] || [ -f "$deb_dir/t10k-labels-idx1-ubyte.gz" ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Installing Fashion-MNIST from Debian (dataset-fashion-mnist)..."
  export DEBIAN_FRONTEND=noninteractive
  if apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 \
     || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; }; then
    exit 0
  fi
  echo "apt-get could not install dataset-fashion-mnist; falling back to a download." >&2
fi
"$python" -c "from accel_sgd.data import load_fashion_mnist; d = load_fashion_mnist(); print('Fashion-MNIST ready in', d.path)"
