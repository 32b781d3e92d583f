# chatapi — verb targets. `make help` lists them.
# Settings come from the environment or a .env file (HTTP_PORT, WS_PORT, DATABASE_URL, MASTER_KEY,
# REDIS_URL, …; see src/config.ts). The environment wins over .env.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN := node_modules/.bin
TSX := $(BIN)/tsx
TSC := $(BIN)/tsc
REDOCLY := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(BIN)/redocly
# Node loads .env itself (variables already set in the environment take precedence).
ENV_FILE := $(if $(wildcard .env),--env-file=.env)
CHATAPI := node $(ENV_FILE) --import tsx src/main.ts

# Test files run one at a time by default: suites start servers and databases, and CI has 2 cores.
TEST_CONCURRENCY ?= 1
TEST_FILES = $(shell find test -name '*.test.ts' 2>/dev/null | sort)
TEST_TAP := node_modules/.cache/chatapi/test-results.tap
K6_SOURCES = $(shell find load/k6 \( -name '*.ts' -o -name '*.js' \) 2>/dev/null)

.PHONY: help install generate check-drift run migrate test check lint lint-spec lint-openapi \
        validate-asyncapi check-asyncapi-cli web typecheck bench load-check load

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# npm ci only when node_modules is missing or package-lock.json changed since the last install
# (npm writes node_modules/.package-lock.json on every install).
install: node_modules/.package-lock.json ## install dependencies (npm ci) when missing or outdated
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

generate: install ## regenerate generated/ from spec/ (types, validators, bundled specs), then the browser bundles
	$(TSX) src/tools/generate.ts --spec spec --out generated
	@touch generated # the directory's time says when generated/ last caught up with spec/
	@$(MAKE) --no-print-directory web

# The service bundles the same files in memory on first request; this writes them out for integrators.
web: install ## bundle the browser pages and the realtime client with esbuild into dist/web/
	$(TSX) src/web/build.ts dist/web

check-drift: install ## fail when generated/ differs from what spec/ generates
	$(TSX) src/tools/check-drift.ts

generated/openapi.bundle.json:
	$(MAKE) generate

run: install generated/openapi.bundle.json ## migrate, then serve (SQLite under ./data by default)
	$(CHATAPI) migrate
	$(CHATAPI) serve

migrate: install ## apply database migrations only
	$(CHATAPI) migrate

test: install ## run every test (SQLite; MySQL too when MYSQL_URL or DATABASE_URL=mysql://… is set)
	@node --import tsx src/tools/test-backends.ts plan
	@mkdir -p $(dir $(TEST_TAP))
	@test -n "$(TEST_FILES)" || { echo "no test files under test/"; exit 1; }
	@rm -f $(TEST_TAP)
	@echo "node --import tsx --test --test-concurrency=$(TEST_CONCURRENCY) <$(words $(TEST_FILES)) files: find test -name '*.test.ts' | sort>"
	@status=0; node --import tsx --test --test-concurrency=$(TEST_CONCURRENCY) \
	  --test-reporter=spec --test-reporter-destination=stdout \
	  --test-reporter=tap --test-reporter-destination=$(TEST_TAP) \
	  $(TEST_FILES) || status=$$?; \
	node --import tsx src/tools/test-backends.ts exercised $(TEST_TAP); exit $$status

# The bundle is linted too: it is what /openapi.yaml serves and what integrators generate from.
lint-openapi: install ## lint spec/openapi.yaml and its bundle (Redocly, rules in redocly.yaml)
	$(REDOCLY) lint spec/openapi.yaml $(wildcard generated/openapi.bundle.yaml)

validate-asyncapi: install ## validate spec/asyncapi.yaml (@asyncapi/parser, what `asyncapi validate` runs)
	$(TSX) src/tools/validate-asyncapi.ts spec/asyncapi.yaml $(wildcard generated/asyncapi.bundle.yaml)

lint-spec: lint-openapi validate-asyncapi ## lint both specs

# The AsyncAPI CLI lives in its own folder (tools/asyncapi-cli, ~1500 packages) so the service's
# dependency tree stays small; installed on first use, scripts off, analytics off.
check-asyncapi-cli: install ## @asyncapi/cli 4.1.1: validate spec + bundle, generate TypeScript models and check their union
	@test -x tools/asyncapi-cli/node_modules/.bin/asyncapi || (cd tools/asyncapi-cli && npm ci --ignore-scripts --no-audit --no-fund)
	@mkdir -p test-results
	$(TSX) src/tools/asyncapi-cli-check.ts

typecheck: install ## tsc --noEmit over src, test, load, generated; browser pages with DOM types; k6 scripts against @types/k6
	$(TSC) -p tsconfig.json
	$(TSC) -p src/web/tsconfig.json
	@if [ -n "$(K6_SOURCES)" ]; then echo "$(TSC) -p load/k6/tsconfig.json"; $(TSC) -p load/k6/tsconfig.json; fi

lint: lint-spec typecheck ## spec lint + typecheck

check: lint-spec check-asyncapi-cli check-drift typecheck test ## everything CI checks: spec lint, asyncapi (parser and CLI), drift, typecheck, tests (incl. generated clients)

bench: install ## benchmarks vs uws-raw, ws-loop, Soketi: fan-out, REST, big rooms, scale (load/bench/run.ts; flags via BENCH_ARGS=...)
	$(TSX) load/bench/run.ts $(BENCH_ARGS)

load-check: install ## brief rate-limit scenario from Node (load/driver/rate-limit-check.ts; flags via LOAD_CHECK_ARGS=...)
	$(TSX) load/driver/rate-limit-check.ts $(LOAD_CHECK_ARGS)

load: ## how to run the k6 scenarios (k6 is installed separately)
	@echo "k6 is not bundled: install it from https://grafana.com/docs/k6/latest/set-up/install-k6/"
	@echo "then follow load/README.md, e.g.: make run  (in another terminal)  and  k6 run --no-usage-report -e MASTER_KEY=<key> load/k6/<scenario>.ts (k6 >= 1.6; older: bundle first)"
	@if [ -f load/README.md ]; then echo; sed -n '1,40p' load/README.md; fi
