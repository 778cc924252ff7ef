# Two commands do all set-up on a fresh machine:  `make lab`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Jupyter refuses to start as root unless told; containers and Colab-like VMs often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# Where `make notebook` keeps the checkpoints of a refresh run (one folder per notebook, wiped before it runs).
REFRESH_CKPT := runs/checkpoints

.PHONY: lab test lint unit notebooks notebook rerun sync bootstrap clean-checkpoints student marks release assignment

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[lab,dev,teach]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

bootstrap: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

lint: $(STAMP)
	$(BIN)/ruff check gan_utils tests benchmarks tools notebooks

unit: $(STAMP)
	$(BIN)/python -m pytest tests -q --ignore=tests/test_notebooks.py --ignore=tests/test_student_notebooks.py \
	  --ignore=tests/test_notebooks_device.py

# Every instructor copy under nbval, then every student copy (fast mode), then every notebook on the stand-in GPU-like
# device (tests/standin_device.py), trained and then resumed. GAN_GRADING=1: a check cell whose answer
# is wrong raises, as under nbgrader, so the instructor copies must pass their own checks.
notebooks: $(STAMP)
	GAN_MODE=fast GAN_GRADING=1 $(BIN)/python -m pytest -q --durations=0 tests/test_notebooks.py \
	  tests/test_student_notebooks.py tests/test_notebooks_device.py

# Student copies (student/NN_name.ipynb) of every notebook with marked exercises, through nbgrader's preprocessors.
student: $(STAMP)
	$(BIN)/python tools/make_student.py

# Give a notebook's exercise cells their nbgrader metadata (idempotent), then its student copy:  make marks NB=07_3dgan
marks: $(STAMP)
	@test -n "$(NB)" || { echo "Usage: make marks NB=07_3dgan"; exit 2; }
	$(BIN)/python tools/nbgrader_marks.py notebooks/$(NB).py
	$(BIN)/python tools/make_student.py notebooks/$(NB).ipynb

# One of the six suggested assignments (docs/teaching.md) in an nbgrader course folder, ready to hand out:
#   make assignment A=a1 [COURSE=~/gan-class]      ->  $(COURSE)/release/a1/
COURSE ?= course
assignment: $(STAMP)
	@test -n "$(A)" || { $(BIN)/python tools/assignments.py --list; echo "Usage: make assignment A=a1 [COURSE=dir]"; exit 2; }
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python tools/assignments.py $(A) --course $(abspath $(COURSE))

test: lint unit notebooks

# Bring every .ipynb and its .py source up to date with whichever was edited last (outputs are kept).
sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/[0-9][0-9]_*.ipynb
	$(BIN)/python tools/tidy_notebook.py notebooks/[0-9][0-9]_*.ipynb

# Re-run one notebook in default mode from scratch and keep its outputs:  make notebook NB=03_dcgan
# The data come from GAN_DATA_ROOT (default: data/ in the repository, or a download, or the offline stand-in); a
# relative GAN_DATA_ROOT is taken from the repository root (the kernel itself runs in notebooks/).
notebook: $(STAMP)
	@test -n "$(NB)" || { echo "Usage: make notebook NB=03_dcgan   (with GAN_DATA_ROOT=/path/to/data for real data)"; exit 2; }
	@test -f notebooks/$(NB).ipynb || { echo "notebooks/$(NB).ipynb does not exist; use a name like 03_dcgan."; exit 2; }
	$(BIN)/jupytext --sync notebooks/$(NB).ipynb
	rm -rf $(REFRESH_CKPT)/default/$(NB)
	$(if $(GAN_DATA_ROOT),GAN_DATA_ROOT=$(abspath $(GAN_DATA_ROOT))) GAN_MODE=default GAN_CKPT_DIR=$(abspath $(REFRESH_CKPT)) \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=7200 notebooks/$(NB).ipynb
	$(BIN)/python tools/tidy_notebook.py notebooks/$(NB).ipynb
	$(BIN)/jupytext --sync notebooks/$(NB).ipynb
	$(BIN)/python tools/make_student.py --skip-unmarked notebooks/$(NB).ipynb

# A second default run on other seeds, to check that the committed claims hold (GAN_SEED shifts every seed in the
# notebook). It writes runs/rerun/seed$(SEED)/NN_name.ipynb and leaves the committed notebook alone:
#   make rerun NB=03_dcgan SEED=1 GAN_DATA_ROOT=../shared/realdata
SEED ?= 1
rerun: $(STAMP)
	@test -n "$(NB)" || { echo "Usage: make rerun NB=03_dcgan SEED=1   (with GAN_DATA_ROOT=/path/to/data for real data)"; exit 2; }
	@test -f notebooks/$(NB).ipynb || { echo "notebooks/$(NB).ipynb does not exist; use a name like 03_dcgan."; exit 2; }
	rm -rf runs/rerun/checkpoints/default/$(NB)
	mkdir -p runs/rerun/seed$(SEED)
	$(if $(GAN_DATA_ROOT),GAN_DATA_ROOT=$(abspath $(GAN_DATA_ROOT))) GAN_MODE=default GAN_SEED=$(SEED) \
	  GAN_CKPT_DIR=$(abspath runs/rerun/checkpoints) $(BIN)/jupyter nbconvert --to notebook --execute \
	  --ExecutePreprocessor.timeout=7200 --output-dir runs/rerun/seed$(SEED) notebooks/$(NB).ipynb

# Pin the course to a release: pyproject's version, whose tag (v<VERSION>) every Colab badge opens and every Colab
# install cell installs. Commit, then `git tag v<VERSION>` and push the tag:  make release VERSION=0.3.0
release:
	@test -n "$(VERSION)" || { echo "Usage: make release VERSION=0.3.0   (now: $$(grep -m1 '^version' pyproject.toml))"; exit 2; }
	$(PYTHON) tools/release.py $(VERSION)

clean-checkpoints:
	rm -rf checkpoints/ $(REFRESH_CKPT)
