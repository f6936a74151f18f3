# Single entry point for the development checks (STYLE.md habit 16).
# The README's test command creates .venv and installs '.[dev]' before calling `make check`.
VENV ?= .venv
# pytest-xdist worker processes for `make test` (0: one process). A module runs whole on one
# worker (--dist loadfile: its module-scoped fixtures, a demo run or a served API, are built
# once) and modules are handed out in collection order (--no-loadscope-reorder), in which
# tests/conftest.py puts the slowest first (docs/testing.md).
PYTEST_WORKERS ?= 2
BIN := $(VENV)/bin

.PHONY: check lint types imports test schemas demo

check: lint types imports schemas test

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types:
	$(BIN)/mypy --strict src/suture

imports:
	$(BIN)/lint-imports

schemas:
	$(BIN)/suture schemas check
	$(BIN)/suture api check

test:
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

demo:
	$(BIN)/suture demo
