# Pantau Kota Cerdas. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
VENV := .venv
PANTAU := $(VENV)/bin/pantau
PYTEST := $(VENV)/bin/pytest

.PHONY: help install system-deps browser-deps node-deps kafka-jars kafka-up kafka-down postgres-up postgres-down topics run test test-unit test-integration \
        lint format typecheck schemas bench bench-scoring bench-ingest bench-alerts bench-history bench-web bench-compare clean grafana manifests

help: ## List every target with what it does
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen
	@touch $@

install: $(VENV)/.installed ## Install the locked Python dependencies into .venv (uv sync --frozen)

system-deps: ## Install Prometheus, promtool, Alertmanager and PostgreSQL from Debian when missing (apt-get; sudo if not root)
	@if ! command -v promtool >/dev/null || ! command -v prometheus-alertmanager >/dev/null; then \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager; \
	fi
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql; \
	fi

browser-deps: ## Install Debian's Chromium for the browser tests when missing (Playwright drives /usr/bin/chromium)
	@if ! command -v chromium >/dev/null; then \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; \
	fi

kafka-jars: install ## Fetch the pinned Apache Kafka jars from Maven Central into .pantau/kafka/libs
	$(PANTAU) kafka fetch

kafka-up: kafka-jars ## Start the local single-node Kafka broker on 127.0.0.1:9092 (idempotent)
	$(PANTAU) kafka up

kafka-down: install ## Stop the local Kafka broker
	$(PANTAU) kafka down

postgres-up: install system-deps ## Start the local PostgreSQL cluster (history store) on 127.0.0.1:5433 (idempotent)
	$(PANTAU) postgres up

postgres-down: install ## Stop the local PostgreSQL cluster (the data stay in .pantau/postgres)
	$(PANTAU) postgres down

topics: kafka-up ## Create the registry's topics (idempotent) and report drift
	$(PANTAU) topics create

run: kafka-jars system-deps ## Start the platform on the embedded default (Kafka, topics, services, Prometheus, Alertmanager); Ctrl-C stops it
	$(PANTAU) run

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-deps: node_modules/.installed ## Install the test suite's pinned npm tools (axe-core, the accessibility checker) from package-lock.json

test: kafka-jars system-deps browser-deps node-deps ## Run every test (unit and integration; the suite starts the real broker, Prometheus, Alertmanager, Chromium)
	$(PYTEST)

test-unit: install ## Run the unit tests only (no I/O)
	$(PYTEST) tests/unit

test-integration: kafka-jars system-deps ## Run the integration tests against the real broker
	$(PYTEST) tests/integration

lint: install ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## ruff format and autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install ## mypy (strict on schemas/ and the domain modules)
	$(VENV)/bin/mypy

bench: bench-scoring bench-ingest bench-alerts bench-history bench-web ## Run every benchmark (results appended to bench/RESULTS.md)

bench-scoring: kafka-jars ## Scoring benchmark: 1M events, one worker vs a raw consumer, latency at 2k/s with one worker, then two, recovery after SIGTERM/SIGKILL
	$(VENV)/bin/python bench/scoring.py --events 1000000 --rate 2000 --latency-seconds 60

bench-ingest: kafka-jars ## Ingest benchmark: HTTP events/s in batches of 500 and one by one (p50/p99) vs a raw producer
	$(VENV)/bin/python bench/ingest.py --events 200000 --single 10000 --batch 500 --concurrency 4

bench-alerts: kafka-jars ## Alerts benchmark: event crossing a threshold -> webhook, p50/p99, at 2k events/s background
	$(VENV)/bin/python bench/alerts.py --rate 2000 --probes 30

bench-history: kafka-jars postgres-up ## History writer benchmark: its region-scores/s and rows/s vs one scoring worker's publish rate, lag draining a 1M-score backlog
	$(VENV)/bin/python bench/history.py --events 1000000 --scores 1000000 --every 5

bench-web: postgres-up ## Web pages benchmark: national page (cached and built), region card p50/p99 at 1 and 8 clients over 3 years of history, server time, bytes of the first page
	$(VENV)/bin/python bench/web.py --years 3 --seconds 20 --clients 1 8

BENCH ?= scoring
REF ?= HEAD~1
bench-compare: kafka-jars ## Before/after in one run: the bench at REF (a commit), then here; BENCH=scoring|alerts|ingest|history, ARGS=... go to it
	$(VENV)/bin/python bench/compare.py --ref $(REF) $(BENCH) -- $(ARGS)

schemas: install ## Re-export the JSON Schema files of the contracts into schemas/json
	$(PANTAU) schemas export

grafana: install ## Rebuild the Grafana boards (deploy/grafana/dashboards/*.json) from services/ops/grafana_boards.py
	$(PANTAU) grafana build

manifests: grafana ## Rebuild deploy/k8s/generated (PrometheusRule and board ConfigMaps) from the rules and boards
	$(VENV)/bin/pantau manifests

clean: ## Stop the broker and the PostgreSQL cluster and remove local state (.pantau) and caches
	-$(PANTAU) kafka down
	-$(PANTAU) postgres down
	rm -rf .pantau .pytest_cache .mypy_cache .ruff_cache .hypothesis
