# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
CYPHER_LINT := tools/cypher-lint/node_modules/.installed

.PHONY: demo test install clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: install
	$(BIN)/baton ingest sql examples/warehouse --dialect postgres \
	    --namespace postgres://warehouse:5432 --default-database analytics --default-schema public \
	    --reason "demo project"
	$(BIN)/baton serve --host $(HOST) --port $(PORT)

test: install $(CYPHER_LINT)
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

clean:
	rm -rf $(VENV) .baton tools/cypher-lint/node_modules
