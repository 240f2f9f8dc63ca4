# The front door. `make run` and `make test` set up whatever is missing first.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
RASA  := $(VENV)/bin/rasa
MODEL := models/hsg.tar.gz
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false
export PYTHONWARNINGS := ignore

DATA_FILES  := $(shell find data -name '*.yml' 2>/dev/null)
ANSWER_FILES := $(shell find content/answers -name '*.yml' 2>/dev/null)
BUILD_INPUTS := domain.yml $(or $(HSG_CLINIC_SETTINGS),clinic.yml) $(ANSWER_FILES) editor/store.py scripts/build.py
MODEL_INPUTS := config.yml $(DATA_FILES) $(wildcard components/*.py components/*.yml common/*.py) build/.built

.PHONY: help setup build train run run-prod services-stop shell test lint validate check-content new-topic readiness report editor-user content-export purge load bench profile screenshots clean
help:            ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed  ## create or refresh the virtual environment
$(VENV)/.installed: requirements.txt scripts/setup.sh
	@bash scripts/setup.sh

build: build/.built      ## render the domain (answers + clinic settings)
build/.built: $(BUILD_INPUTS) | $(VENV)/.installed
	@echo "==> Building the domain"
	@$(PY) scripts/build.py
	@touch $@

train: $(MODEL)          ## train the model if data, config or domain changed
$(MODEL): $(MODEL_INPUTS) | $(VENV)/.installed
	@echo "==> Training (data, config or domain changed; about a minute)"
	@$(RASA) train --config config.yml --domain build/domain.yml --data data --out models --fixed-model-name hsg
	@touch $@

run: train               ## start the assistant (Rasa :5005, actions :5055, web chat :8080, editor :5056)
	@bash scripts/run.sh

run-prod: train          ## production profile: 2 Rasa servers behind nginx, PostgreSQL, Redis (see README)
	@bash scripts/run.sh --prod

services-stop:           ## stop the local PostgreSQL and Redis that run-prod started
	@bash scripts/services.sh stop

shell: train             ## chat with the assistant in this terminal
	@bash scripts/run.sh --shell

validate: build          ## check the training data and domain (no warnings allowed)
	@$(PY) scripts/validate.py

check-content: | $(VENV)/.installed  ## check every answer (reading grade, SMS length, sources...) and print a table
	@$(PY) scripts/check_content.py

new-topic: | $(VENV)/.installed  ## stubs of a new exam topic in every place it needs: make new-topic KEY=iodine_diet GROUP=before
	@$(PY) -B scripts/new_topic.py "$(KEY)" --group "$(GROUP)"

readiness: | $(VENV)/.installed  ## what stands between this install and patients (exit 0; STRICT=1: 1 while any) [PROFILE=prod]
	@$(PY) -B scripts/readiness.py $(if $(filter prod,$(PROFILE)),--prod) $(if $(STRICT),--strict)

report: | $(VENV)/.installed  ## list what patients asked that the bot could not answer [PROFILE=prod]
	@$(PY) -B scripts/report.py $(if $(filter prod,$(PROFILE)),--prod)

editor-user: | $(VENV)/.installed  ## create an account or change its password: make editor-user NAME=jane.doe [ROLE=clinician] [KEEP_PASSWORD=1] [PROFILE=prod]
	@$(PY) scripts/editor_user.py $(if $(filter prod,$(PROFILE)),--prod) $(if $(ROLE),--role "$(ROLE)") $(if $(KEEP_PASSWORD),--keep-password) "$(NAME)"

content-export: | $(VENV)/.installed  ## production profile: write the live answers (PostgreSQL) back to content/answers/ for git
	@$(PY) -B -m editor.content_sync export

purge: | $(VENV)/.installed  ## delete events older than the retention setting (PROFILE=prod for PostgreSQL)
	@$(PY) scripts/purge.py $(if $(filter prod,$(PROFILE)),--prod)

lint: | $(VENV)/.installed  ## lint, format and types: ruff check, ruff format --check (pyproject.toml), mypy
	@echo "==> Lint, format (ruff) and types (mypy)"
	@$(VENV)/bin/ruff check --quiet .
	@$(VENV)/bin/ruff format --check --quiet . || { echo "Run: .venv/bin/ruff format ."; exit 1; }
	@$(VENV)/bin/mypy --no-error-summary

test: train lint         ## run every test (installs Chromium for the browser tests if missing)
	@bash scripts/setup_browser.sh
	@$(PY) scripts/check_content.py > /dev/null || $(PY) scripts/check_content.py
	@$(PY) scripts/validate.py
	@bash scripts/test.sh

load: train .venv-load/.installed  ## load test with locust: embedded, production and rasa init's bot (LOAD_USERS=50 LOAD_SECONDS=120)
	@$(PY) scripts/load.py

.venv-load/.installed: requirements-load.txt | $(VENV)/.installed
	@echo "==> Installing locust into .venv-load (its own environment)"
	@$(PY) -m venv .venv-load && .venv-load/bin/pip install -q -r requirements-load.txt && touch $@

bench: train             ## print NLU accuracy, training time, size, memory and latency
	@$(PY) scripts/bench.py

profile: train .venv-load/.installed  ## record where Rasa's CPU goes with py-spy: docs/perf/*.svg (PROFILE_SECONDS=20)
	@$(PY) scripts/profile.py

screenshots: train       ## save pictures of the web chat to docs/screenshots/
	@bash scripts/setup_browser.sh
	@$(PY) scripts/screenshots.py

clean:                   ## remove build output and trained models (keeps .venv)
	rm -rf build models results
