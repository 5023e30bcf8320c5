"""newsdesk.client needs only httpx and pydantic: in a fresh interpreter where every other third-party package is
made unimportable, it imports and talks to a real server, and no server module (Chroma, onnxruntime, FastAPI, ...)
was loaded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rag.settings import PROJECT_ROOT

# httpx and pydantic with their own (non-optional) dependencies, and this project's packages.
ALLOWED = {
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "sniffio",
    "idna",
    "certifi",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
    "newsdesk",
    "api",
    "rag",
}
SERVER_MODULES = [
    "chromadb",
    "onnxruntime",
    "fastapi",
    "starlette",
    "uvicorn",
    "numpy",
    "tokenizers",
    "bm25s",
]

PROGRAM = """
import importlib.abc, json, sys
allowed, url, key = set(sys.argv[1].split(",")), sys.argv[2], sys.argv[3]

class OnlyAllowed(importlib.abc.MetaPathFinder):
    # As if only httpx and pydantic were installed: any other third-party import fails.
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top in allowed or top.startswith("_"):
            return None
        raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)

sys.meta_path.insert(0, OnlyAllowed())
from newsdesk.client import AsyncNewsdesk, Newsdesk, NotFound
answer = None
if url:
    with Newsdesk(url, key) as news:
        answer = news.ask("How high did the Tamsin River crest?").status
        try:
            news.article("no-such-article")
        except NotFound as exc:
            answer += " " + exc.code
loaded = sorted({m.partition(".")[0] for m in sys.modules} - set(sys.stdlib_module_names))
print(json.dumps({"loaded": loaded, "answer": answer}))
"""


def run_light(url: str = "", key: str = "") -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, ",".join(sorted(ALLOWED)), url, key],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_client_imports_nothing_of_the_server() -> None:
    loaded = run_light()["loaded"]
    assert isinstance(loaded, list)
    assert not set(loaded) & set(SERVER_MODULES)
    assert {m for m in loaded if not m.startswith("_")} <= ALLOWED
    assert {"httpx", "pydantic", "newsdesk"} <= set(loaded)


def test_the_blocker_would_catch_a_server_import() -> None:
    # The check above can fail: importing the pipeline under the same blocker is refused.
    program = PROGRAM.replace(
        "from newsdesk.client import", "import rag.pipeline\nfrom newsdesk.client import"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, ",".join(sorted(ALLOWED)), "", ""],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "(blocked)" in done.stderr


@pytest.mark.server
def test_light_client_talks_to_a_real_server(news_server: str, news_key: str) -> None:
    assert run_light(news_server, news_key)["answer"] == "answered not_found"
