# Two commands on a fresh machine: `make run` (the demo centre on http://127.0.0.1:8000) and
# `make test` (the whole suite). Everything they need is installed by them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/portfolio
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEV_ENV := DEBUG=true

BENCH_STAMP := $(VENV)/.installed-bench
LOAD_URL ?= postgres://postgres@127.0.0.1:5432/portfolio_load
LOAD_LEARNERS ?= 2000
LOAD_USERS ?= 50
LOAD_TIME ?= 2m
LOAD_PORT ?= 8001
LOAD_IDLE_TIME ?= 20s
LOAD_HEAVY_TIME ?= 1m
LOAD_TASK_WORKERS ?= 2

.PHONY: run install test test-sqlite test-postgres lint format system-deps system-test-deps bench bench-pdf load screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python system-deps
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python system-deps
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(RUN_STAMP)

# libmagic judges an upload's type from its content; ffmpeg (with ffprobe) takes the location,
# device and other tags out of videos and recordings without re-encoding them; Pango, HarfBuzz
# and the DejaVu fonts let WeasyPrint lay out the PDF portfolio.
SYSTEM_LIBS := libmagic.so.1 libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz.so.0
system-deps:
	@missing=""; for lib in $(SYSTEM_LIBS); do \
		ldconfig -p 2>/dev/null | grep -q "$$lib" || missing="$$missing $$lib"; done; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts"; \
	command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || \
		missing="$$missing ffmpeg"; \
	if [ -n "$$missing" ]; then \
		echo "Installing system libraries for:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libmagic1 \
			libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core ffmpeg >/dev/null; fi

install: $(RUN_STAMP)

run: $(RUN_STAMP)
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEV_ENV) $(BIN)/python manage.py import_unit units/specs/*.yaml
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000 with a background worker (stop both with Ctrl+C)"
	$(DEV_ENV) $(BIN)/python manage.py db_worker --no-startup-delay & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# Debian's Chromium drives the browser tests; Playwright cannot download a browser here.
# exiftool reads back every tag a stored video, recording or photo still carries.
system-test-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@command -v exiftool >/dev/null 2>&1 || { \
		echo "Installing exiftool for the file tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			libimage-exiftool-perl >/dev/null; }

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(TEST_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-sqlite: $(TEST_STAMP) system-test-deps
	env -u DATABASE_URL $(BIN)/pytest

test-postgres: $(TEST_STAMP) system-test-deps
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest

# The README's pictures of each role's main page, taken afresh by the browser tests.
screenshots: $(TEST_STAMP) system-test-deps
	SCREENSHOTS_DIR=docs/screenshots env -u DATABASE_URL $(BIN)/pytest -q \
		tests/browser/test_screenshots.py -k test_each_roles_main_page_is_pictured

# Under CI=true the suite runs on SQLite and on PostgreSQL; either failing fails the run.
ifeq ($(CI),true)
test: lint test-sqlite test-postgres
else
test: lint test-sqlite
endif

$(BENCH_STAMP): pyproject.toml | $(BIN)/python system-deps
	$(BIN)/pip install --quiet -e ".[bench]"
	touch $@ $(RUN_STAMP)

# A small (100 learners) and a large (2000 learners) centre, each in its own SQLite database
# under var/bench/: the key pages' queries and median times, the PDF export against its
# text-only floor, the peak memory of a 500 MB upload and the time seed_demo took.
bench: $(RUN_STAMP)
	$(DEV_ENV) $(BIN)/python manage.py bench --sizes 100 2000

# The production server (gunicorn) on loopback with PostgreSQL, a centre of LOAD_LEARNERS and
# LOAD_TASK_WORKERS background workers, under locust (headless) three times: /health/ and a page
# timed alone, then while 10 people upload 12 MP photos and 10 export PDFs (their medians side
# by side), then LOAD_USERS people's working day for LOAD_TIME. Fails on any error.
LOAD_ENV := DEBUG=false SECRET_KEY=load-test-only-$$(date +%s)-not-for-production \
	AUDIT_KEY=load-test-only-audit-key-not-for-production \
	ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=$(LOAD_URL) DATABASE_CONN_MAX_AGE=60 \
	SECURE_SSL_REDIRECT=false SECURE_COOKIES=false STATIC_ROOT=$(CURDIR)/var/load/static \
	PRIVATE_FILES_ROOT=$(CURDIR)/var/load/files LOG_LEVEL=WARNING
LOCUST := LOAD_LEARNERS=$(LOAD_LEARNERS) $(BIN)/locust -f tests/load/locustfile.py --headless \
	--host http://127.0.0.1:$(LOAD_PORT) --only-summary --stop-timeout 5
load: $(BENCH_STAMP)
	$(BIN)/python -c "import psycopg; c = psycopg.connect('$(dir $(LOAD_URL))postgres', \
		autocommit=True); c.execute('DROP DATABASE IF EXISTS $(notdir $(LOAD_URL))'); \
		c.execute('CREATE DATABASE $(notdir $(LOAD_URL))')"
	rm -rf var/load && mkdir -p var/load
	export $(LOAD_ENV); \
	$(BIN)/python manage.py migrate --no-input -v0 && \
	$(BIN)/python manage.py collectstatic --no-input -v0 && \
	$(BIN)/python manage.py import_unit units/specs/*.yaml && \
	DEMO=true $(BIN)/python manage.py seed_demo --learners $(LOAD_LEARNERS) >/dev/null && \
	{ BIND=127.0.0.1:$(LOAD_PORT) $(BIN)/gunicorn --config gunicorn.conf.py \
		--access-logfile /dev/null & server=$$!; \
	for n in $$(seq $(LOAD_TASK_WORKERS)); do \
		nice -n 10 $(BIN)/python manage.py db_worker --no-startup-delay >/dev/null 2>&1 & \
		workers="$$workers $$!"; done; \
	trap 'kill $$server $$workers 2>/dev/null' EXIT INT TERM; \
	sleep 3; \
	$(LOCUST) --users 1 --spawn-rate 1 --run-time $(LOAD_IDLE_TIME) --csv var/load/idle \
		Watcher && \
	$(LOCUST) --users 21 --spawn-rate 21 --run-time $(LOAD_HEAVY_TIME) --csv var/load/heavy \
		Watcher Uploader Exporter; heavy=$$?; \
	$(BIN)/python tests/load/report.py var/load/idle_stats.csv var/load/heavy_stats.csv && \
	[ $$heavy = 0 ] && \
	$(LOCUST) --users $(LOAD_USERS) --spawn-rate 10 --run-time $(LOAD_TIME) \
		Learner Assessor Iqa Eqa Administrator; }

# The PDF export of learner1's complete portfolio with 40 phone photos (12 megapixels) added
# for the measurement and removed afterwards.
bench-pdf: $(RUN_STAMP)
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input -v0
	$(DEV_ENV) $(BIN)/python manage.py import_unit units/specs/*.yaml
	$(DEV_ENV) $(BIN)/python manage.py seed_demo >/dev/null
	$(DEV_ENV) $(BIN)/python manage.py bench_pdf_export --photos 40

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache *.egg-info
