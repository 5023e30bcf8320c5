"""A real `newsdesk serve` (uvicorn) in a subprocess on 127.0.0.1: started, polled until healthy, stopped.

Used by the load test (a second process drives the server) and by tests that need a real server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from rag.settings import PROJECT_ROOT


class ServerFailed(RuntimeError):
    """The server exited or did not answer /healthz in time; the message holds its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    data_dir: Path, log_path: Path, env: Mapping[str, str] | None = None, startup_timeout_s: float = 90.0
) -> Iterator[str]:
    """Yield the base URL of a server on a free port over ``data_dir``; NEWSDESK_* from the caller's environment
    are dropped so only ``env`` configures it."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    environment.update(
        NEWSDESK_DATA_DIR=str(data_dir), ORT_DISABLE_TELEMETRY="1", ANONYMIZED_TELEMETRY="False"
    )
    environment.update(env or {})
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "newsdesk.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if process.poll() is not None:
                raise ServerFailed(f"server exited with {process.returncode}:\n{_tail(log_path)}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServerFailed(f"server not up after {startup_timeout_s}s:\n{_tail(log_path)}")
            time.sleep(0.25)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:]
