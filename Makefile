# Two commands do all set-up on a fresh machine (see README):
#   make demo   install what is missing, then run the main job (viewer, or headless inference without a display)
#   make test   install what is missing, then run the linter and the test suite (what CI runs)
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
# re-install whenever the pins change
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt | sha1sum | cut -c1-12)

.PHONY: demo lint test test-fast bench tensorrt

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

demo: $(STAMP)
	$(PY) run.py

# the linter first: a finding fails the build like a failing test (rules in pyproject.toml)
lint: $(STAMP)
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest

test-fast: lint
	$(PY) -m pytest -m "not slow"

bench: $(STAMP)
	$(PY) run.py bench --backend onnxruntime --pipeline

# optional: TensorRT + pycuda on a machine with an NVIDIA GPU and the CUDA toolkit
tensorrt: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-tensorrt.txt
