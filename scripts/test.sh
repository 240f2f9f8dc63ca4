#!/usr/bin/env bash
# Every test: pytest (units, content checks, the running bot), then Rasa's
# end-to-end test stories with --fail-on-prediction-errors.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 RASA_TELEMETRY_ENABLED=false PYTHONWARNINGS=ignore
echo "==> pytest"
.venv/bin/python -m pytest -q "$@"
echo "==> Test stories (rasa test core --e2e --fail-on-prediction-errors)"
rm -rf results
.venv/bin/rasa test core --model models/hsg.tar.gz --stories tests/stories \
  --e2e --fail-on-prediction-errors --out results --no-plot > results.log 2>&1 || {
    grep -A30 "Exception" results.log | head -60 || true
    echo "Test stories failed (full log: results.log)"; exit 1; }
grep -E "Correct:|Accuracy|F1-Score" results.log | head -5 || true
echo "Test stories: all passed"
