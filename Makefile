# Log Gardener: `make demo` and `make test` work on a fresh machine with Python 3.11 and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	# Drain3 is only the benchmark's yardstick; its pinned cachetools clashes with Prefect's.
	$(BIN)/pip install --quiet --no-deps 'drain3==0.9.11'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/gardener demo --folder demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/grouping_quality.py
	$(BIN)/python bench/clustering_speed.py
	$(BIN)/python bench/extract_speed.py

clean:
	rm -rf demo .pytest_cache
