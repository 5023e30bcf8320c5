"""A real HTTP server on 127.0.0.1 for the fetch and feed tests: routes are set per test, requests are recorded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes


Route = Reply | Callable[[dict[str, str]], Reply]


class Site:
    """Routes by path; ``requests`` records (path, headers) of every request; ``most_at_once`` the largest number
    of requests in progress at the same time, per path."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.in_flight: dict[str, int] = {}
        self.most_at_once: dict[str, int] = {}
        self.lock = threading.Lock()

    @contextmanager
    def serving(self, path: str) -> Iterator[None]:
        with self.lock:
            self.in_flight[path] = self.in_flight.get(path, 0) + 1
            self.most_at_once[path] = max(self.most_at_once.get(path, 0), self.in_flight[path])
        try:
            yield
        finally:
            with self.lock:
                self.in_flight[path] -= 1

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]


@contextmanager
def serve() -> Iterator[Site]:
    site = Site("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            site.requests.append((self.path, headers))
            with site.serving(self.path):
                self._reply(headers)

        def _reply(self, headers: dict[str, str]) -> None:
            route = site.routes.get(self.path)
            reply = Reply(404, b"not here", {"Content-Type": "text/plain"}) if route is None else route
            if callable(reply):
                reply = reply(headers)
            try:
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.send_length and reply.status != 304:
                    self.send_header("Content-Length", str(len(reply.body)))
                if not reply.send_length:
                    self.close_connection = True
                self.end_headers()
                if reply.status != 304:
                    self.wfile.write(reply.body)
            except OSError:  # the client gave up (timeout, size limit)
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass

    server = Server(("127.0.0.1", 0), Handler)
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def html_page(title: str, body: str, charset: str = "utf-8", meta: bool = True) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    head = f'<meta charset="{charset}">' if meta else ""
    return (
        f"<!doctype html><html><head>{head}<title>{title}</title></head><body><nav>Home | World</nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article><footer>Example News Ltd</footer></body></html>"
    )
