# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
CYPHER_LINT := tools/cypher-lint/node_modules/.installed

.PHONY: demo test install clean browser

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: install
	BATON=$(BIN)/baton sh examples/load-demo.sh
	@echo "Baton console: http://$(HOST):$(PORT)/"
	$(BIN)/baton serve --host $(HOST) --port $(PORT)

test: install $(CYPHER_LINT) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/baton schema export --check
	$(BIN)/python -m catalog.stores.neo4j.lint_manifest | node tools/cypher-lint/lint.mjs
	@if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"; \
	elif command -v docker-compose >/dev/null 2>&1; then COMPOSE="docker-compose"; fi; \
	if [ -n "$$COMPOSE" ]; then \
	    NEO4J_PASSWORD=validation-only $$COMPOSE config -q && echo "$$COMPOSE: docker-compose.yml is valid"; \
	else echo "docker compose: not installed here, docker-compose.yml not validated"; fi
	$(BIN)/pytest

# Neo4j's Cypher linter (Node.js), pinned by the committed lockfile.
$(CYPHER_LINT): tools/cypher-lint/package.json tools/cypher-lint/package-lock.json
	npm ci --prefix tools/cypher-lint --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests drive Debian's Chromium; installed here when missing and we may.
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -n "$$BATON_CHROMIUM" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "NO BROWSER: chromium is missing and apt-get needs root: browser tests will SKIP"; fi

clean:
	rm -rf $(VENV) .baton tools/cypher-lint/node_modules
