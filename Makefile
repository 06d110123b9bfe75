# Make targets of the consultation assistant. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
RASA_VENV := $(ROOT)/.venv/rasa
RPY := $(RASA_VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
GW_VENV := $(ROOT)/.venv/gateway
GPY := $(GW_VENV)/bin/python
GATEWAY_PORT ?= 8000
CHROMIUM := /usr/bin/chromium
UV_VERSION := 0.13.9
MODELS := $(ROOT)/models
export ACTION_ENDPOINT_URL ?= http://localhost:5055/webhook
# Quieter TensorFlow, and no telemetry calls from this closed network.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export RASA_TELEMETRY_ENABLED ?= false
export PYTHONHASHSEED ?= 0

GINZA_FP = $(shell python3 scripts/fingerprint.py config.yml)
STOCK_FP = $(shell python3 scripts/fingerprint.py config_stock.yml)
GINZA_MODEL = $(MODELS)/ginza-$(GINZA_FP).tar.gz
STOCK_MODEL = $(MODELS)/stock-$(STOCK_FP).tar.gz

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(RASA_VENV)/.installed: requirements/rasa.lock pyproject.toml
	@echo "== Rasa environment (Python 3.10) in .venv/rasa"
	rm -rf $(RASA_VENV)
	"$$(scripts/find-python.sh 3.10)" -m venv $(RASA_VENV)
	$(RPY) -m pip install -q "uv==$(UV_VERSION)"
	$(RASA_VENV)/bin/uv pip install -q --python $(RPY) -r requirements/rasa.lock
	$(RASA_VENV)/bin/uv pip install -q --python $(RPY) --no-deps -e .
	touch $@

$(GW_VENV)/.installed: requirements/gateway.lock pyproject.toml
	@echo "== gateway environment (Python 3.11) in .venv/gateway"
	rm -rf $(GW_VENV)
	"$$(scripts/find-python.sh 3.11)" -m venv $(GW_VENV)
	$(GPY) -m pip install -q "uv==$(UV_VERSION)"
	$(GW_VENV)/bin/uv pip install -q --python $(GPY) -r requirements/gateway.lock
	$(GW_VENV)/bin/uv pip install -q --python $(GPY) --no-deps -e .
	touch $@

.PHONY: install
install: $(RASA_VENV)/.installed $(GW_VENV)/.installed ## Build the environments (only what changed)

.PHONY: lock
lock: ## Re-pin requirements/*.lock from requirements/*.in
	$(RASA_VENV)/bin/uv pip compile -q requirements/rasa.in --python-version 3.10 \
	  --python-platform x86_64-unknown-linux-gnu -o requirements/rasa.lock
	$(RASA_VENV)/bin/uv pip compile -q requirements/gateway.in --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu -o requirements/gateway.lock

.PHONY: train
train: install ## Train the GiNZA model unless one matches data, domain and config
	@if [ -f $(GINZA_MODEL) ]; then echo "== model up to date: $(GINZA_MODEL)"; else \
	  echo "== training $(GINZA_MODEL)"; \
	  cd chatbot && $(RASA) train --config config.yml --fixed-model-name ginza-$(GINZA_FP) --out $(MODELS); fi

.PHONY: train-stock
train-stock: install ## Train Rasa's stock pipeline on the same data (for comparison)
	@if [ -f $(STOCK_MODEL) ]; then echo "== stock model up to date"; else \
	  cd chatbot && $(RASA) train nlu --config config_stock.yml --fixed-model-name stock-$(STOCK_FP) --out $(MODELS); fi

.PHONY: run
run: train ## Set up everything, start actions, Rasa and the web gateway, print where to chat
	MODEL=$(GINZA_MODEL) RASA_VENV=$(RASA_VENV) GATEWAY_VENV=$(GW_VENV) \
	  GATEWAY_PORT=$(GATEWAY_PORT) DATABASE_URL="$(DATABASE_URL)" scripts/run.sh

.PHONY: gateway
gateway: install ## Run the web gateway alone on port 8000 (Rasa and actions already running)
	cd gateway && $(GW_VENV)/bin/uvicorn app.main:app --host 127.0.0.1 --port $(GATEWAY_PORT) --no-proxy-headers

.PHONY: chat
chat: ## Chat from the terminal with the running assistant (after `make run`)
	python3 scripts/chat.py

.PHONY: lint
lint: install ## ruff check and format check
	$(RASA_VENV)/bin/ruff check .
	$(RASA_VENV)/bin/ruff format --check .

.PHONY: format
format: install ## ruff format and fix
	$(RASA_VENV)/bin/ruff format .
	$(RASA_VENV)/bin/ruff check --fix .

.PHONY: validate
validate: install ## rasa data validate (fails on warnings)
	cd chatbot && $(RASA) data validate --fail-on-warnings --config config.yml

.PHONY: test-unit
test-unit: install ## pytest without the servers
	$(RPY) -m pytest -q -m "not live"

.PHONY: e2e
e2e: train ## rasa test: end-to-end conversations in chatbot/tests
	cd chatbot && $(RASA) test core --model $(GINZA_MODEL) --stories tests \
	  --out ../results/e2e --fail-on-prediction-errors

.PHONY: evaluate
evaluate: train train-stock ## Held-out NLU quality: GiNZA vs stock pipeline, confusion images in results/
	$(RPY) scripts/evaluate.py --model $(GINZA_MODEL) --stock $(STOCK_MODEL) --out results/heldout $(EVAL_ARGS)

# The held-out report of the GiNZA model alone, with the floor: what `make test`
# runs (training the stock pipeline too would add a second full training to CI).
.PHONY: heldout
heldout: train ## Held-out per-intent and per-entry F1 of the GiNZA model; fails below chatbot/heldout/FLOOR
	$(RPY) scripts/evaluate.py --model $(GINZA_MODEL) --out results/heldout --floor $$(cat chatbot/heldout/FLOOR)

# Whole replies (the right action and the right place to call) on sets
# written by writers who never saw the training data. The dev sets' errors
# are for reading; the blind sets print figures only.
REPLIES := $(RPY) scripts/replies_eval.py --model $(GINZA_MODEL)

.PHONY: dev-eval
dev-eval: train ## Whole-reply pass rates on the dev sets, with their errors in results/replies/
	$(REPLIES) chatbot/dev/firstturn.yml chatbot/dev/firstturn-2.yml chatbot/dev/urgent.yml chatbot/dev/urgent-2.yml chatbot/dev/urgent-3.yml chatbot/dev/urgent-4.yml chatbot/dev/urgent-5.yml chatbot/dev/conversations.yml chatbot/dev/conversations-2.yml --show-errors

.PHONY: blind
blind: train ## Whole-reply pass rates on the blind sets (figures only; fails below the floors)
	$(REPLIES) chatbot/blind/firstturn.yml chatbot/blind/conversations.yml \
	  --floor $$(sed -n 1p chatbot/blind/FLOORS) --floor $$(sed -n 2p chatbot/blind/FLOORS)

.PHONY: test-live
test-live: train ## pytest against the real action server and Rasa over REST
	MODEL=$(GINZA_MODEL) $(RPY) -m pytest -q -m live

$(CHROMIUM):
	@echo "== Debian's chromium for the browser tests"
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

# A Japanese font, so that the browser lays out (and screenshots show) Japanese text.
JA_FONT := /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf
$(JA_FONT):
	@echo "== Debian's IPA Gothic font for the browser tests"
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-ipafont-gothic

# axe-core from the npm registry, pinned by its package-lock.json, for the accessibility tests.
A11Y := gateway/tests/a11y
AXE := $(A11Y)/node_modules/axe-core/axe.min.js
$(AXE): $(A11Y)/package.json $(A11Y)/package-lock.json
	@echo "== axe-core (npm ci) for the accessibility tests"
	cd $(A11Y) && npm ci
	touch $@

BROWSER_TESTS := $(CHROMIUM) $(JA_FONT) $(AXE)

.PHONY: test-gateway
test-gateway: train $(BROWSER_TESTS) ## Gateway: ruff, then its API, failure, browser and accessibility tests
	cd gateway && $(GW_VENV)/bin/ruff check . && $(GW_VENV)/bin/ruff format --check .
	cd gateway && MODEL=$(GINZA_MODEL) RASA_VENV=$(RASA_VENV) $(GPY) -m pytest -q

.PHONY: a11y
a11y: train $(BROWSER_TESTS) ## Web chat and staff pages: axe-core, phone layout; screenshots in results/screenshots
	cd gateway && MODEL=$(GINZA_MODEL) RASA_VENV=$(RASA_VENV) $(GPY) -m pytest -q \
	  tests/test_a11y.py tests/test_phone_layout.py

.PHONY: test
test: lint test-unit validate train e2e ## Run every test (this is what CI runs)
	$(MAKE) heldout
	$(MAKE) blind
	$(MAKE) test-live
	$(MAKE) test-gateway

.PHONY: bench
bench: train ## Benchmarks: training, start-up, memory, latency
	MODEL=$(GINZA_MODEL) $(RPY) bench/bench_rasa.py

.PHONY: bench-conversation
bench-conversation: train ## CPU-ms per message at turns 10, 100 and 300 of one conversation (SQLite and Redis stores)
	MODEL=$(GINZA_MODEL) $(RPY) bench/bench_conversation.py

.PHONY: bench-gateway
bench-gateway: train ## Gateway load benchmark: 1, 10, 50 users, against Rasa directly too
	MODEL=$(GINZA_MODEL) RASA_VENV=$(RASA_VENV) $(GPY) bench/bench_gateway.py

.PHONY: bench-line
bench-line: train ## LINE webhook: receipt to reply call under a burst of 100 events (fake LINE API)
	MODEL=$(GINZA_MODEL) RASA_VENV=$(RASA_VENV) $(GPY) bench/bench_line.py

.PHONY: bench-security
bench-security: install ## Security figures: parallel sign-in guesses, 2,000-body fuzz, LINE webhook with Redis hung
	$(GPY) bench/bench_security.py

.PHONY: bench-masking
bench-masking: install ## Personal-data masking: recall, false masks, NER load time and memory (both environments)
	$(GPY) tests/masking/score.py
	$(RPY) tests/masking/score.py

.PHONY: line-richmenu
line-richmenu: install ## Register gateway/line/richmenu.json as the LINE channel's default menu
	cd gateway && $(GPY) -m app.line_richmenu

.PHONY: clean
clean: ## Remove environments, models and results
	rm -rf .venv models results
