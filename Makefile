# pacsguard -- everything a fresh Debian machine needs, from nothing.
#   make demo    set up, then de-identify built-in sample data
#   make test    set up (pip + Debian peers), lint, type-check and run every test
#   make fuzz    coverage-guided fuzzing of the readers and pipeline (FUZZ_SECONDS=60)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PEERS  := .peers/.installed

.PHONY: all venv peers compile demo test test-fast lint typecheck bench tables clean fuzz

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,codecs,ocr,fuzz,dask,s3,az]'
	touch $(STAMP)

venv: $(STAMP)

# Byte-code for the editable sources: halves the CLI's start-up (0.97 -> 0.53 s here) where
# PYTHONDONTWRITEBYTECODE keeps Python from caching it, in every worker process too.
compile: $(STAMP)
	$(PY) -m compileall -q src > /dev/null

# Debian peers the tests run against for real: dciodvfy, DCMTK, Orthanc, nmap, chromium.
$(PEERS): scripts/peers.sh
	bash scripts/peers.sh
	mkdir -p .peers && touch $(PEERS)

# Azurite, Microsoft's Azure Storage emulator (npm), for the az:// tests on loopback.
AZURITE := .peers/azurite/node_modules/.bin/azurite-blob
$(AZURITE):
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q nodejs npm >/dev/null; }
	npm install --silent --no-audit --no-fund --prefix .peers/azurite azurite@3.35.0

peers: $(PEERS)

demo: $(STAMP) $(PEERS) compile
	bash scripts/demo.sh

lint: $(STAMP)
	$(PY) -m ruff check src tests bench scripts examples

typecheck: $(STAMP)
	$(PY) -m mypy

# The fuzz run goes first so that pytest's closing line ends the output.
test: $(STAMP) $(PEERS) $(AZURITE) compile lint typecheck
	$(MAKE) fuzz
	$(PY) -m pytest

# atheris (the `fuzz` extra): time-boxed; a crash leaves crash-* and fails the target. A fixed
# seed over the generated seed corpus makes a run repeatable (CI explores what a developer's
# run of the same length explored); FUZZ_SEED=0 lets libFuzzer draw one.
FUZZ_SECONDS ?= 60
FUZZ_SEED ?= 1
fuzz: $(STAMP)
	@$(PY) -c "import atheris" 2>/dev/null || $(PY) -m pip install -q -e '.[fuzz]' || { \
	  echo "make fuzz: atheris cannot be installed here (pip install 'pacsguard[fuzz]')" >&2; exit 1; }
	PYTHONPATH=src:. $(PY) tests/hostile/fuzz_atheris.py -max_total_time=$(FUZZ_SECONDS) \
	  -rss_limit_mb=1024 -timeout=30 -seed=$(FUZZ_SEED) -artifact_prefix=.fuzz-

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

tables: $(STAMP)
	$(PY) scripts/gen_tables.py

# Every benchmark with its defaults (see bench/README.md); PRESIDIO=/path/to/python adds
# presidio-image-redactor to the pixel bench. Without network where the kernel allows it.
NONET := $(shell unshare -n true 2>/dev/null && echo unshare -n)
bench: $(STAMP) $(PEERS) compile
	$(PY) bench/deid_bench.py --sets large,small
	$(PY) bench/verify_bench.py
	$(PY) bench/audit_bench.py
	$(PY) bench/scale_bench.py --wait-idle 90
	$(NONET) $(PY) bench/pixels_bench.py --series 30 $(if $(PRESIDIO),--presidio $(PRESIDIO))

clean:
	rm -rf $(VENV) .peers .fuzz-corpus demo-in demo-out demo-out.pacsguard .pytest_cache .mypy_cache .ruff_cache
