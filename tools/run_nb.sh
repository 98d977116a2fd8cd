#!/usr/bin/env bash
# Execute notebooks in place, storing their outputs (`#| slow` cells keep theirs unless --slow is given), clean them
# as CI expects and export the library.   Usage: tools/run_nb.sh [--slow] nbs/00_data.ipynb ...
# One intra-op thread, as CI runs them (some float results differ with the thread count): OMP_NUM_THREADS=2 to change.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
.venv/bin/nbdev_export   # first too: a notebook may run code (a subprocess) that imports its own module
slow=""; if [ "${1:-}" = "--slow" ]; then slow="--slow"; shift; fi
for nb in "$@"; do
  echo "== running $nb"; start=$(date +%s)
  .venv/bin/python tools/run_nb.py $slow "$nb"
  .venv/bin/nbdev_clean --fname "$nb"
  echo "   done in $(( $(date +%s) - start )) s"
done
.venv/bin/nbdev_export
