"""Real servers in subprocesses on 127.0.0.1 — `newsdesk serve` (uvicorn), and any other command with a health
URL (a `chroma run` server, llama-cpp-python's OpenAI-compatible server): started, polled until healthy, stopped.

Used by the load test (a second process drives the server) and by the tests that need real servers.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from rag.settings import PROJECT_ROOT


class ServerFailed(RuntimeError):
    """The server exited or did not answer its health URL in time; the message holds its log's tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def started_process(
    command: Sequence[str],
    health_url: str,
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    startup_timeout_s: float = 90.0,
    name: str = "server",
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (output to ``log_path``) until ``health_url`` answers 200; terminate it on exit."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if process.poll() is not None:
                raise ServerFailed(f"{name} exited with {process.returncode}:\n{_tail(log_path)}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(health_url, timeout=2.0).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise ServerFailed(f"{name} not up after {startup_timeout_s:.0f}s:\n{_tail(log_path)}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@contextmanager
def running_server(
    data_dir: Path, log_path: Path, env: Mapping[str, str] | None = None, startup_timeout_s: float = 90.0
) -> Iterator[str]:
    """Yield the base URL of `newsdesk serve` on a free port over ``data_dir``; NEWSDESK_* from the caller's
    environment are dropped so only ``env`` configures it."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    environment.update(
        NEWSDESK_DATA_DIR=str(data_dir), ORT_DISABLE_TELEMETRY="1", ANONYMIZED_TELEMETRY="False"
    )
    environment.update(env or {})
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "newsdesk.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with started_process(
        command,
        f"{base}/healthz",
        log_path,
        env=environment,
        cwd=PROJECT_ROOT,
        startup_timeout_s=startup_timeout_s,
    ):
        yield base


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:]
