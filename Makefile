# Two commands do all set-up on a fresh machine:  `make lab`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test lint unit notebooks bootstrap clean-checkpoints

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

bootstrap: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

lint: $(STAMP)
	$(BIN)/ruff check gan_utils tests benchmarks tools notebooks

unit: $(STAMP)
	$(BIN)/python -m pytest tests -q --ignore=tests/test_notebooks.py

notebooks: $(STAMP)
	GAN_MODE=fast $(BIN)/python -m pytest -q --durations=0 tests/test_notebooks.py

test: lint unit notebooks

clean-checkpoints:
	rm -rf checkpoints/
