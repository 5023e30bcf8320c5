"""The README's "Integrations" section runs as written: each python block in a fresh interpreter against a live
server (NEWSDESK_URL / NEWSDESK_API_KEY, as a reader would set them), each MCP config by starting the command it
names with the mcp SDK's stdio client and asking a question."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from rag.pipeline import Services
from rag.settings import PROJECT_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.server]

PLACEHOLDER = "/ABSOLUTE/PATH/TO/newsdesk"


def section_blocks(language: str) -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Integrations", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def test_the_section_has_its_snippets() -> None:
    assert len(section_blocks("python")) == 2 and len(section_blocks("json")) == 2


@pytest.mark.parametrize("index", [0, 1], ids=["client", "langchain"])
def test_python_snippet_runs(index: int, news_server: str, news_key: str, tmp_path: Path) -> None:
    code = section_blocks("python")[index]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(NEWSDESK_URL=news_server, NEWSDESK_API_KEY=news_key)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    if index == 0:
        assert done.stdout.startswith("answered ") and "6.4" in done.stdout
        assert "[1] Northfield Tribune" in done.stdout and "streamed: " in done.stdout
        assert "18.6" in done.stdout  # the follow-up, answered in its conversation
    else:
        assert "6.4 meters [1]" in done.stdout
        assert (
            "[1] Northfield Tribune: Tamsin River crests" in done.stdout
            and "(fict-003, characters" in done.stdout
        )


@pytest.mark.parametrize("index", [0, 1], ids=["data-dir", "url"])
def test_mcp_config_starts_a_working_server(
    index: int, real_services: Services, news_server: str, news_key: str, tmp_path: Path
) -> None:
    # The command as installed beside this interpreter (.venv/bin/newsdesk under `make test`).
    text = section_blocks("json")[index].replace(
        f"{PLACEHOLDER}/.venv/bin/newsdesk", str(Path(sys.executable).parent / "newsdesk")
    )
    text = text.replace(PLACEHOLDER, str(PROJECT_ROOT))
    text = text.replace(str(PROJECT_ROOT / "data"), str(real_services.settings.data_dir))
    text = text.replace("http://127.0.0.1:8000", news_server).replace("YOUR-KEY", news_key)
    config = json.loads(text)["mcpServers"]["newsdesk"]
    assert Path(config["command"]).exists(), "the newsdesk command is not installed (make install)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    # The test store was built with the fp32 MiniLM route; the demo's default route needs no setting.
    env.update(config.get("env", {}), NEWSDESK_EMBEDDER="minilm")
    parameters = StdioServerParameters(command=config["command"], args=config["args"], env=env)

    async def ask() -> str:
        with (tmp_path / "mcp.log").open("w") as log:
            async with (
                stdio_client(parameters, errlog=log) as (read, write),
                ClientSession(read, write) as client,
            ):
                await client.initialize()
                result = await client.call_tool(
                    "ask_news", {"question": "How high did the Tamsin River crest?"}
                )
                assert not result.is_error, result.content
                return str(result.structured_content["answer"])

    assert "6.4" in anyio.run(ask)
