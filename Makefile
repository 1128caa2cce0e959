# Two commands do everything on a fresh clone:
#   make run    set up, then talk to the assistant on the default config
#   make test   set up, then lint, type-check and run the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/pip install --disable-pip-version-check -q
CONFIG ?= configs/default.yaml

.PHONY: install run test test-fast lint bench bench-asr bench-reply bench-talk bench-soak bench-serve clean

install: $(STAMP)

$(STAMP): requirements/runtime.txt requirements/nodeps.txt requirements/dev.txt requirements/constraints.txt pyproject.toml
	bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python packages into $(VENV) (first time: about 2 minutes, 3 GB)…"
	$(PIP) -r requirements/runtime.txt -r requirements/dev.txt -c requirements/constraints.txt
	$(PIP) --no-deps -r requirements/nodeps.txt
	$(PIP) --no-deps -e .
	touch $(STAMP)

run: install
	$(BIN)/voicebot talk --config $(CONFIG) --demo-without-devices

lint: install
	$(BIN)/ruff check voicebot tests scripts
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

test-fast: lint
	$(BIN)/pytest -q -m "not slow"

bench: bench-asr bench-reply bench-talk

bench-asr: install
	$(BIN)/voicebot bench asr --config $(CONFIG) --out bench-out/asr

bench-reply: install
	$(BIN)/voicebot bench reply --out bench-out/reply

bench-talk: install
	$(BIN)/voicebot bench talk --config $(CONFIG) --out bench-out/talk

bench-soak: install
	$(BIN)/voicebot bench soak --config $(CONFIG) --turns 200 --out bench-out/soak

bench-serve: install
	$(BIN)/voicebot bench serve --config $(CONFIG) --out bench-out/serve

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
