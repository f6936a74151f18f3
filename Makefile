# Single entry point for the development checks (STYLE.md habit 16).
# The README's test command creates .venv and installs '.[dev]' before calling `make check`.
VENV ?= .venv
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
	$(BIN)/pytest -q

demo:
	$(BIN)/suture demo
