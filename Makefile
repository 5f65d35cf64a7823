# Log Gardener: `make demo` and `make test` work on a fresh machine with Python 3.11 and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the versions the tests passed with (pip constraints); `make lock` regenerates them
LOCK := requirements.lock

# bqemulator, the BigQuery emulator the tests run against, lives in a virtualenv of its own: its pins clash with ours
BQEMU := .bqemu
BQEMU_STAMP := $(BQEMU)/.installed
BQEMU_LOCK := requirements-bqemulator.lock
# DuckDB looks for extensions under $$HOME/.duckdb/extensions/<version>/<platform>; the spatial extension the
# emulator loads comes from a wheel, copied where the emulator's DuckDB (asked for its platform) looks
BQEMU_HOME := $(BQEMU)/home

.PHONY: setup demo test lint bench lock clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev,bench]'
	# Drain3 is only the benchmark's yardstick; its pinned cachetools clashes with Prefect's.
	$(BIN)/pip install --quiet --no-deps 'drain3==0.9.11'
	touch $(STAMP)

setup: $(STAMP)

$(BQEMU_STAMP): $(BQEMU_LOCK)
	$(PYTHON) -m venv $(BQEMU)/venv
	$(BQEMU)/venv/bin/pip install --quiet --upgrade pip
	$(BQEMU)/venv/bin/pip install --quiet -r $(BQEMU_LOCK)
	folder=$(BQEMU_HOME)/.duckdb/extensions/v1.5.5/$$($(BQEMU)/venv/bin/python -c "import duckdb; print(duckdb.sql('pragma platform').fetchone()[0])") && \
	mkdir -p $$folder && \
	cp $(BQEMU)/venv/lib/python*/site-packages/duckdb_extension_spatial/extensions/v1.5.5/spatial.duckdb_extension $$folder/
	touch $(BQEMU_STAMP)

demo: $(STAMP)
	$(BIN)/gardener demo --folder demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint $(BQEMU_STAMP)
	GARDENER_REQUIRE_BQEMU=1 $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/grouping_quality.py
	$(BIN)/python bench/clustering_speed.py
	$(BIN)/python bench/extract_speed.py
	$(BIN)/python bench/pipeline_speed.py

# Re-resolve the dependencies in a scratch virtualenv and pin what was installed.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet '.[dev,bench]'
	(echo "# The resolved set the tests passed with, used as pip constraints by make (regenerate: make lock)."; \
	 .lock-venv/bin/pip freeze --all --exclude-editable | grep -v '^log-gardener\|^pip==') > $(LOCK)
	rm -rf .lock-venv

clean:
	rm -rf demo .pytest_cache $(BQEMU)
