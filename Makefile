# Channel Analytics: every target creates .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)

DASHBOARD_ARGS ?= --provider demo-contact-center

.PHONY: run test serve aggregate dashboard report lint format openapi docs bench reliability build deploy infra-gen clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

RUN_ARGS ?=

run: $(STAMP) ## the whole main job on the embedded defaults; RUN_ARGS=--days 7 for a week
	$(BIN)/python -m tools.demo $(RUN_ARGS)

test: $(STAMP) ## the whole suite, Firestore emulator included (pytest exit 5 = nothing collected = failure)
	@$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests - the suite is misconfigured" >&2; fi; \
	exit $$status

serve: $(STAMP) ## the local stack: ingest :8081, providers :8082, aggregate :8083, report :8084
	$(BIN)/python -m tools.serve

aggregate: $(STAMP) ## aggregation runs on the configured store and warehouse until caught up
	$(BIN)/python -m tools.aggregate

dashboard: $(STAMP) ## the sample dashboard; DASHBOARD_ARGS: --provider ID --days N | --start D --end D, --warehouse URL, --out FILE
	$(BIN)/python -m tools.dashboard $(DASHBOARD_ARGS)

report: $(STAMP) ## one run of the daily report e-mail on the configured store, warehouse and mailer
	$(BIN)/python -m tools.report

BENCH_ARGS ?=

bench: $(STAMP) ## benchmarks next to their floors; BENCH_ARGS: --quick, --sizes 1000000,10000000, --markdown BENCHMARKS.md
	$(BIN)/python -m tools.bench $(BENCH_ARGS)

RELIABILITY_ARGS ?=

reliability: $(STAMP) ## long fault campaigns, soak, fuzz and authorization matrix (~20 min); figures into RELIABILITY.md
	$(BIN)/python -m tools.reliability --update-doc RELIABILITY.md $(RELIABILITY_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

openapi: $(STAMP) ## regenerate the committed OpenAPI and JSON Schema documents
	$(BIN)/python -m shared.openapi.spec

BUILD_DIR ?= build
TF ?= terraform
TF_VARS ?= terraform.tfvars

build: $(STAMP) ## one reproducible zip per function in $(BUILD_DIR)/ (content-hashed names), prints each sha256
	$(BIN)/python -m tools.build --out $(BUILD_DIR)

infra-gen: $(STAMP) ## regenerate infra/generated/*.json from the warehouse table and Firestore index declarations
	$(BIN)/python -m tools.infra_gen

deploy: build infra-gen ## build, infra-gen, then terraform init/plan/apply in infra/ with infra/$(TF_VARS) (docs/deploy.md)
	@test -f infra/$(TF_VARS) || { echo "make deploy: infra/$(TF_VARS) is missing; copy infra/terraform.tfvars.example and fill it in" >&2; exit 1; }
	$(TF) -chdir=infra init -input=false $(if $(wildcard infra/gcs.tfbackend),-backend-config=gcs.tfbackend)
	$(TF) -chdir=infra plan -input=false -var-file=$(TF_VARS) -out=tfplan
	$(TF) -chdir=infra apply -input=false tfplan

clean:
	rm -rf $(VENV) .local build
