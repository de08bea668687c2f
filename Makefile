PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_DEV := $(VENV)/.dev-installed
STAMP_RUN := $(VENV)/.installed

.PHONY: demo test lint types bench services docs-images clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[asgi,django,flask]' uvicorn gunicorn httpx fastapi
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/python -m example_projects.asgi_app.demo
	@echo
	$(BIN)/python -m example_projects.django_site.demo
	@echo
	$(BIN)/python -m example_projects.flask_app.demo

services:
	./scripts/ensure-services

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP_DEV)
	$(BIN)/mypy

test: $(STAMP_DEV) services lint types
	$(BIN)/pytest

bench: $(STAMP_DEV) services
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	$(BIN)/python -m benchmarks

docs-images: $(STAMP_DEV)
	mkdir -p docs/images
	$(BIN)/throttle simulate 10/10s --policy token_bucket,fixed_window,sliding_window --traffic 'burst:10@9s+burst:10@10.5s+steady:2/s,start=25s,end=50s' --duration 60s --plot docs/images/simulate.png

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
