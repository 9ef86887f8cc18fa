# sseflows — one command to run, one command to test.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
STAMP   = $(VENV)/.sseflows-installed
DEMO_DB ?= $(HOME)/.sseflows/demo-db

.PHONY: install demo test test-fast bench lint clean qe

install: $(STAMP) qe

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, CPU build from local disk, so that chgnet does not pull a CUDA build
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[ml,dev]"
	touch $(STAMP)

# Quantum ESPRESSO (pw.x, neb.x) from Debian when missing and we are root.
qe:
	@if ! command -v pw.x >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Quantum ESPRESSO with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq quantum-espresso >/dev/null; \
	  else \
	    echo "pw.x not found and not root: install Quantum ESPRESSO yourself (tests that need it are skipped)"; \
	  fi; \
	fi

demo: install
	$(VENV)/bin/sseflows demo --store $(DEMO_DB)

test: install
	OMP_NUM_THREADS=1 $(PY) -m pytest -q

test-fast: install
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -m "not slow"

bench: install
	mkdir -p benchmarks/results
	OMP_NUM_THREADS=1 $(PY) benchmarks/bvse_throughput.py --out benchmarks/results/bvse_throughput.json
	OMP_NUM_THREADS=1 $(PY) benchmarks/neb_paths.py --out benchmarks/results/neb_paths.json
	OMP_NUM_THREADS=1 $(PY) benchmarks/neb_paths_qe.py --out benchmarks/results/neb_paths_qe.json
	OMP_NUM_THREADS=1 $(PY) benchmarks/md_throughput.py --out benchmarks/results/md_throughput.json

lint: install
	$(VENV)/bin/ruff check sseflows tests benchmarks
	$(VENV)/bin/ruff format --check sseflows tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
