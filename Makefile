# The README's commands. Each one does all of its own set-up, idempotently:
# a second run skips what is already done.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test train lab docs docs-serve bench install data browser clean help

help:
	@echo "make test        every check CI runs (installs what it needs first; OUTSIDE=1: the notebooks outside the repository)"
	@echo "make train       train the course model on Fashion-MNIST and print the test accuracy"
	@echo "make lab         Jupyter Lab on nbs/ with the project's environment"
	@echo "make docs        build the docs site into _docs/ (make docs-serve to browse it on localhost)"
	@echo "make bench       the quick benchmark scripts in bench/ (BENCH=\"...\" to choose)"

# --- set-up ---------------------------------------------------------------
install: $(STAMP)

$(STAMP): setup.py settings.ini
	@free=$$(df -Pk . | awk 'NR == 2 {print int($$4 / 1048576)}'); \
	  if [ "$$free" -lt 8 ]; then echo "Warning: $$free GB free on the disk that holds $$(pwd); the environment takes about 7 GB (torch's CUDA build, the only one on PyPI for this Python, is most of it). If pip stops with 'No space left on device', free some space and run the command again." >&2; fi
	@test -x $(BIN)/python || { echo "Creating the virtual environment $(VENV) with $(PYTHON)..."; $(PYTHON) -m venv $(VENV); }
	@echo "Installing pip, then accel_sgd with its dev tools into $(VENV): torch, torchvision, nbdev, jupyter, fastai, sphinx, playwright (a few minutes, once)..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet --progress-bar off -e ".[dev]"
	@echo "Installed: $$($(BIN)/python -c 'import torch, accel_sgd; print("accel_sgd", accel_sgd.__version__, "with torch", torch.__version__)')"
	@touch $@

data: install
	@PY=$(BIN)/python bash tools/ensure.sh data

# Chromium for the docs browser test (Debian's package, as root), npm for the local MathJax.
browser:
	@bash tools/ensure.sh npm chromium

# --- the commands ---------------------------------------------------------
# OUTSIDE=1 (or ACCEL_SGD_OUTSIDE=1 in the environment): the notebooks run as a learner runs them, in a temporary
# directory outside the repository, against the package built as a wheel (tools/check_nbs.py)
test: data browser
	@$(BIN)/python tools/check_nbs.py $(if $(filter 1,$(OUTSIDE)),--outside,)

train: data
	$(BIN)/accel-sgd train $(ARGS)

# Jupyter refuses to run as root unless told to: containers often run as root
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: data
	$(BIN)/jupyter lab --notebook-dir=nbs $(LAB_ROOT)

DOCS_PORT ?= 8000
docs: install
	@bash tools/ensure.sh npm
	$(BIN)/nbdev_export
	$(BIN)/python tools/build_docs.py --quiet

docs-serve: docs
	@echo "serving _docs/ on http://127.0.0.1:$(DOCS_PORT)/  (Ctrl-C to stop)"
	$(BIN)/python -m http.server $(DOCS_PORT) --bind 127.0.0.1 --directory _docs

# The quick side-by-side timings (minutes); the long ones (time_to_accuracy.py, resnet.py: an hour)
# are run from nbs/06_benchmarks.ipynb or by hand: make bench BENCH="time_to_accuracy resnet";
# the speedrun records (chapter 08, about a quarter of an hour): make bench BENCH=speedrun
BENCH ?= data_loader learner_overhead optimizer_step train_loop
bench: data
	@for f in $(BENCH); do echo "== bench/$$f.py"; OMP_NUM_THREADS=1 $(BIN)/python bench/$$f.py || exit 1; done

clean:
	rm -rf _proc _docs runs .pytest_cache
