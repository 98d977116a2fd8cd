#!/usr/bin/env bash
# Execute notebooks in place so their outputs (plots, tables) are stored, clean them the way
# CI expects, and export the library.   Usage: tools/run_nb.sh [--slow] nbs/00_data.ipynb [...]
# Cells flagged `#| slow` keep their stored outputs unless --slow is given (then they run too).
# Draft a new notebook as a jupytext percent script, then: .venv/bin/jupytext --to ipynb draft.py -o nbs/NN_name.ipynb
set -euo pipefail
cd "$(dirname "$0")/.."
# CI runs each notebook with one intra-op thread (tools/check_nbs.py); store outputs made the same way,
# since some float results differ with the thread count. Override with OMP_NUM_THREADS=2 tools/run_nb.sh ...
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
.venv/bin/nbdev_export   # first too: a notebook may run code (a subprocess) that imports its own module
slow=""
if [ "${1:-}" = "--slow" ]; then slow="--slow"; shift; fi
for nb in "$@"; do
  echo "== running $nb"
  start=$(date +%s)
  .venv/bin/python tools/run_nb.py $slow "$nb"
  .venv/bin/nbdev_clean --fname "$nb"
  echo "   done in $(( $(date +%s) - start )) s"
done
.venv/bin/nbdev_export
