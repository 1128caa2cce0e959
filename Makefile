# Two commands do everything on a fresh clone:
#   make run    set up, then talk to the assistant on the default config
#   make test   set up, then lint, type-check and run the tests
# Optional: make coqui adds the Coqui TTS backend to .venv; make test-coqui tests it (CI too).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/pip install --disable-pip-version-check -q
CONFIG ?= configs/default.yaml

.PHONY: install coqui run test test-coqui test-fast lint bench bench-asr bench-reply bench-talk bench-soak bench-serve clean

install: $(STAMP)

$(STAMP): requirements/runtime.txt requirements/nodeps.txt requirements/dev.txt requirements/constraints.txt pyproject.toml
	bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python packages into $(VENV) (first time: about 2 minutes, 3 GB)…"
	$(PIP) -r requirements/runtime.txt -r requirements/dev.txt -c requirements/constraints.txt
	$(PIP) --no-deps -r requirements/nodeps.txt
	$(PIP) --no-deps -e .
	touch $(STAMP)

# The optional Coqui TTS backend (tts.backend: coqui), added to .venv; README, Coqui TTS.
COQUI_REQS   := requirements/coqui.txt requirements/coqui-constraints.txt
COQUI_PIP    := -r requirements/coqui.txt -c requirements/constraints.txt -c requirements/coqui-constraints.txt
COQUI_VENV   := .venv-coqui
COQUI_STAMP  := $(VENV)/.coqui-installed
COQUI_TESTED := $(COQUI_VENV)/.installed
COQUI_NOTE   := (pip may then list pipecat-ai's unmet requirements: expected, see requirements/nodeps.txt)

coqui: $(COQUI_STAMP)

$(COQUI_STAMP): $(STAMP) $(COQUI_REQS)
	@echo "Adding the Coqui TTS extra to $(VENV) (about 350 MB) $(COQUI_NOTE)"
	$(PIP) $(COQUI_PIP)
	touch $(COQUI_STAMP)

run: install
	$(BIN)/voicebot talk --config $(CONFIG) --demo-without-devices

lint: install
	$(BIN)/ruff check voicebot tests scripts
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

# The Coqui tests in .venv-coqui: .venv's packages plus the extra (scripts/layer-venv.sh), so
# .venv itself stays without it and `make test` checks the skip. They must run, not skip;
# the other TTS backends and the transformers LLM (which imports any torchaudio it finds)
# are tested beside the extra too.
test-coqui: $(COQUI_TESTED)
	$(COQUI_VENV)/bin/python -c "import sys, voicebot.tts.coqui as c; \
	sys.exit(0 if c.coqui_available() else 'the Coqui extra is missing from $(COQUI_VENV)')"
	$(COQUI_VENV)/bin/python -m pytest -q tests/test_tts_coqui.py tests/test_tts_backends.py \
		tests/test_llm_transformers.py

$(COQUI_TESTED): $(STAMP) $(COQUI_REQS)
	bash scripts/layer-venv.sh $(VENV) $(COQUI_VENV)
	@echo "Installing the Coqui extra into $(COQUI_VENV) $(COQUI_NOTE)"
	$(COQUI_VENV)/bin/pip install --disable-pip-version-check -q $(COQUI_PIP)
	touch $(COQUI_TESTED)

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
	$(BIN)/voicebot bench soak --config $(CONFIG) --chat --turns 100 --out bench-out/soak-chat
	$(BIN)/voicebot bench serve --config $(CONFIG) --cycles 100 --out bench-out/serve-cycles

bench-serve: install
	$(BIN)/voicebot bench serve --config $(CONFIG) --out bench-out/serve

clean:
	rm -rf $(VENV) $(COQUI_VENV) .mypy_cache .ruff_cache .pytest_cache
