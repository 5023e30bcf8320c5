"""newsdesk core: types, settings, adapters and the ask pipeline.

The core never imports api/, ingest/ or evals/; each third-party SDK is imported by exactly one adapter module.
"""

import os

# onnxruntime looks up a telemetry host on bare import unless this is set first (see DESIGN.md).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
# Chroma's client telemetry is also disabled in store.py; this covers any client built elsewhere.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
