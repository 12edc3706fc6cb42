# The two commands a newcomer runs: `make demo` and `make test` (`make lint` before a commit).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint install serve bench clean

$(BIN)/onhand: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/onhand

demo: install
	$(BIN)/onhand demo

serve: install
	$(BIN)/onhand serve

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The gates CI runs before the tests: lint rules, formatting, types (config in pyproject.toml).
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) onhand.db onhand.db-wal onhand.db-shm .pytest_cache
