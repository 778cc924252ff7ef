#!/usr/bin/env bash
# Execute notebooks in default mode on the real subsets, in place, one after another, then tidy their JSON.
# Usage: tools/run_default.sh 01_vanilla_gan 02_conditional_gan ...   (GAN_DATA_ROOT defaults to ../shared/realdata)
set -u
cd "$(dirname "$0")/.."
root=$(cd "${GAN_DATA_ROOT:-../shared/realdata}" && pwd)
for nb in "$@"; do
  start=$(date +%s)
  GAN_MODE=default GAN_DATA_ROOT="$root" .venv/bin/jupyter nbconvert --to notebook --execute --inplace \
    --ExecutePreprocessor.timeout=1800 "notebooks/$nb.ipynb" > "runs/$nb.log" 2>&1
  rc=$?
  echo "$nb rc=$rc wall=$(( $(date +%s) - start ))s" | tee -a runs/summary.txt
  .venv/bin/python tools/nbbuild.py "notebooks/$nb.ipynb"
done
