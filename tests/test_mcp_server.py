"""`newsdesk mcp` in a real subprocess, driven by the `mcp` SDK's own stdio client: list the tools, call each one,
read an article resource, and ask about an unknown article (a tool error, after which the server still answers).
Over the real MiniLM store in process, and against a real newsdesk server with its API key."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent, TextResourceContents

from rag.pipeline import Services
from rag.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

TOOLS = {"ask_news", "search_news", "summarize_news", "list_articles"}


def server_parameters(args: list[str], env: dict[str, str]) -> StdioServerParameters:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "newsdesk.cli", "mcp", *args],
        env={**base, "ORT_DISABLE_TELEMETRY": "1", "ANONYMIZED_TELEMETRY": "False", **env},
        cwd=str(PROJECT_ROOT),
    )


@asynccontextmanager
async def session(parameters: StdioServerParameters, errlog: Path) -> AsyncIterator[ClientSession]:
    with errlog.open("w") as log:
        async with (
            stdio_client(parameters, errlog=log) as (read, write),
            ClientSession(read, write) as client,
        ):
            with anyio.fail_after(120):
                await client.initialize()
            yield client


def run(body: Callable[[], Awaitable[None]]) -> None:
    anyio.run(body)


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))


async def exercise(client: ClientSession) -> dict[str, str]:
    """Every tool and a resource; returns the bodies read, by article id, for span checks."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    assert "insufficient_evidence" in (tools["ask_news"].description or "")
    assert "verified" in (tools["ask_news"].description or "")
    assert tools["ask_news"].output_schema and "short_answer" in tools["ask_news"].output_schema["properties"]

    listed = structured(await client.call_tool("list_articles", {"sources": ["Valley Wire"], "limit": 2}))
    assert listed["total"] == 4 and len(listed["items"]) == 2
    assert all(item["source"] == "Valley Wire" for item in listed["items"])

    bodies: dict[str, str] = {}

    async def body_of(article_id: str) -> str:
        if article_id not in bodies:
            read = await client.read_resource(f"newsdesk://articles/{article_id}")
            contents = read.contents[0]
            assert isinstance(contents, TextResourceContents) and contents.mime_type == "application/json"
            article = json.loads(contents.text)
            assert article["id"] == article_id
            bodies[article_id] = article["body"]
        return bodies[article_id]

    answer = structured(
        await client.call_tool("ask_news", {"question": "How high did the Tamsin River crest?"})
    )
    assert answer["status"] == "answered" and "6.4" in answer["answer"]
    assert "short_answer" in answer and "answerability" in answer
    for citation in answer["citations"]:
        body = await body_of(citation["article_id"])
        assert body[citation["start"] : citation["end"]] == citation["quote"]

    found = structured(await client.call_tool("search_news", {"query": "flood wall vote", "k": 3}))
    assert 1 <= len(found["passages"]) <= 3
    for passage in found["passages"]:
        chunk = passage["chunk"]
        assert (await body_of(chunk["article_id"]))[chunk["start"] : chunk["end"]] == chunk["text"]

    brief = structured(
        await client.call_tool(
            "summarize_news", {"kind": "brief", "article_ids": ["fict-007"], "max_sentences": 2}
        )
    )
    assert brief["articles"] == ["fict-007"] and brief["status"] == "answered" and brief["citations"]
    timeline = structured(
        await client.call_tool(
            "summarize_news",
            {
                "kind": "timeline",
                "topic": "ferry strike",
                "sources": ["The Harbor Ledger"],
                "since": "2026-09-01",
            },
        )
    )
    assert {c["source"] for c in timeline["citations"]} == {"The Harbor Ledger"}

    resources = (await client.list_resources()).resources
    assert len(resources) == 16 and "newsdesk://articles/fict-003" in {str(r.uri) for r in resources}
    return bodies


async def error_paths(client: ClientSession) -> None:
    unknown = await client.call_tool("summarize_news", {"kind": "brief", "article_ids": ["fict-999"]})
    assert "fict-999" in error_text(unknown)
    two = await client.call_tool("summarize_news", {"kind": "brief", "article_ids": ["fict-001", "fict-002"]})
    assert "exactly one article" in error_text(two)
    assert error_text(await client.call_tool("ask_news", {"question": "x" * 3000}))
    with pytest.raises(Exception, match="fict-999"):
        await client.read_resource("newsdesk://articles/fict-999")
    # Still serving after the errors.
    again = structured(await client.call_tool("list_articles", {"limit": 1}))
    assert again["total"] == 16


def test_stdio_server_over_a_local_data_dir(real_services: Services, tmp_path: Path) -> None:
    parameters = server_parameters(
        ["--data-dir", str(real_services.settings.data_dir)], {"NEWSDESK_EMBEDDER": "minilm"}
    )

    async def body() -> None:
        async with session(parameters, tmp_path / "mcp.log") as client:
            bodies = await exercise(client)
            for article_id, text in bodies.items():
                stored = real_services.registry.article(article_id)
                assert stored is not None and stored.body == text
            await error_paths(client)

    run(body)


@pytest.mark.server
def test_stdio_server_against_a_remote_newsdesk(news_server: str, news_key: str, tmp_path: Path) -> None:
    parameters = server_parameters(["--url", news_server], {"NEWSDESK_API_KEY": news_key})
    no_key = server_parameters(["--url", news_server], {})

    async def body() -> None:
        async with session(parameters, tmp_path / "mcp.log") as client:
            await exercise(client)
            await error_paths(client)
        async with session(no_key, tmp_path / "mcp-no-key.log") as client:
            refused = await client.call_tool("ask_news", {"question": "How high did the Tamsin River crest?"})
            assert "unauthorized" in error_text(refused)

    run(body)


def test_mcp_refuses_a_missing_data_dir_and_an_open_host(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from newsdesk.cli import app

    missing = CliRunner().invoke(app, ["mcp", "--data-dir", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    open_host = CliRunner().invoke(app, ["mcp", "--transport", "streamable-http", "--host", "0.0.0.0"])
    assert open_host.exit_code == 2 and "no authentication" in open_host.output


def test_streamable_http_transport(real_services: Services, tmp_path: Path) -> None:
    import socket
    import subprocess
    import time

    from mcp.client.streamable_http import streamable_http_client

    from evals.server import free_port

    port = free_port()
    parameters = server_parameters(
        [
            "--data-dir",
            str(real_services.settings.data_dir),
            "--transport",
            "streamable-http",
            "--port",
            str(port),
        ],
        {"NEWSDESK_EMBEDDER": "minilm"},
    )
    env = {**(parameters.env or {})}
    with (tmp_path / "mcp-http.log").open("wb") as log:
        process = subprocess.Popen(
            [parameters.command, *parameters.args], env=env, cwd=parameters.cwd, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "mcp-http.log").read_text()
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "the MCP server did not listen in time"
            time.sleep(0.2)

        async def body() -> None:
            url = f"http://127.0.0.1:{port}/mcp"
            async with streamable_http_client(url) as (read, write), ClientSession(read, write) as client:
                await client.initialize()
                assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
                answer = structured(
                    await client.call_tool("ask_news", {"question": "Who defeated Mayor Gordon Pell?"})
                )
                assert answer["status"] == "answered" and "Brightwater" in answer["answer"]
                assert "fict-999" in error_text(
                    await client.call_tool("summarize_news", {"kind": "brief", "article_ids": ["fict-999"]})
                )

        run(body)
    finally:
        process.terminate()
        process.wait(timeout=15)
