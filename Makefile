# The two commands that matter: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM_PATH ?= /usr/lib/chromium/chromium

.PHONY: run test test-postgres lint format check-deploy bench bench-search browser screenshots clean

# The venv is rebuilt only when the requirements change.
$(VENV)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --no-input
	$(PY) manage.py loadcontent
	@# The task worker (emails to support) runs beside the server and stops with it.
	$(PY) manage.py db_worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Browser tests drive Debian's chromium; Playwright never downloads a browser of its own.
browser:
	@if [ ! -x "$(CHROMIUM_PATH)" ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

test: $(VENV)/.installed browser
	$(PY) -m pytest $(PYTEST_ARGS)

# Refresh the mobile screenshots in docs/screenshots/ from the browser test.
screenshots: $(VENV)/.installed browser
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/test_browser.py -k mobile -q

# The same suite on PostgreSQL (pytest-django creates and drops test_helpcenter on that server).
PG_URL ?= postgres://postgres@127.0.0.1:5432/helpcenter
test-postgres: $(VENV)/.installed browser
	DATABASE_URL=$(PG_URL) $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# `manage.py check --deploy` with the environment production sets.
check-deploy: $(VENV)/.installed
	DEBUG=false SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=help.example.com SECURE_SSL_REDIRECT=true \
	$(PY) manage.py check --deploy --fail-level WARNING

bench: $(VENV)/.installed
	$(PY) bench/bench.py

# Search and the list pages with 5,000 generated checkers and 5,000 articles (about 3 minutes per database).
bench-search: $(VENV)/.installed
	$(PY) bench/search_bench.py

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
