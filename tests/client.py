"""The suite's test client: Starlette's ``TestClient`` with one thread hop per request.

Starlette's own transport streams each response from the app's event loop (the client's
portal thread) back to the test's thread: about eight calls across the two threads per
request (an event, a memory stream, a cancel scope, the app task, one per body chunk),
each a thread switch. The suite sends tens of thousands of requests (the role matrix alone
about 5,500), so those hops were a good part of its CPU: 2.8 ms of CPU for a static file,
against 1.0 ms with one hop (benchmarks/bench_test_client.py prints both).

Here the whole exchange runs in the event loop in one portal call: the request body is
handed over whole, the response collected whole, then returned. The app sees the same
ASGI scope as under Starlette's transport (client, server, root path, lifespan state,
debug extension), and a failing app raises into the test as there
(``raise_server_exceptions``). What this transport does not do, Starlette's still does:
websockets, and a response read as it streams (``client.stream(...)``), for which the
client switches back to Starlette's transport for that one request.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import anyio
import httpx
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message

# The servers the tests start (uvicorn, nginx, Caddy) speak plain HTTP, but httpx builds a
# TLS context for every client it makes, loading the CA bundle each time: about 20 ms of CPU
# per client, and the operations, load and live-alert tests make several hundred (one per
# poll while a process starts). One context, made once, serves them all.
_TLS = ssl.create_default_context()


def http_client(**kwargs: Any) -> httpx.Client:
    """``httpx.Client(**kwargs)`` for a test's own server, without a TLS context of its own."""
    return httpx.Client(verify=_TLS, **kwargs)


def http_get(url: str, **kwargs: Any) -> httpx.Response:
    """``httpx.get(url, **kwargs)`` for a test's own server (as ``http_client``)."""
    return httpx.get(url, verify=_TLS, **kwargs)


class _Exchange:
    """One request run to completion inside the event loop."""

    def __init__(self, app: ASGIApp, scope: dict[str, Any], body: bytes) -> None:
        self.app = app
        self.scope = scope
        self.body = body
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.debug: dict[str, Any] | None = None
        self.error: BaseException | None = None

    async def run(self) -> None:
        request_sent = False
        complete = anyio.Event()

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": self.body, "more_body": False}
            await complete.wait()  # as a client that stays until the response is whole
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                assert self.status is None, 'Received multiple "http.response.start" messages.'
                self.status = message["status"]
                self.headers = list(message.get("headers", []))
            elif kind == "http.response.body":
                assert self.status is not None, 'Received "http.response.body" before start.'
                assert not complete.is_set(), 'Received "http.response.body" after completion.'
                self.chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    complete.set()
            elif kind == "http.response.debug":
                self.debug = message["info"]

        try:
            await self.app(self.scope, receive, send)
        except BaseException as exc:  # handed to the test's thread, raised there
            self.error = exc
        finally:
            complete.set()


class OneHopTransport(httpx.BaseTransport):
    """One portal call per request, with the app, portal and settings of Starlette's
    transport (``fallback``), which still serves websockets and streamed reads."""

    def __init__(self, fallback: Any, streaming: threading.local) -> None:
        self.fallback = fallback
        self.streaming = streaming

    def close(self) -> None:
        self.fallback.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        starlette = self.fallback
        if request.url.scheme in {"ws", "wss"} or getattr(self.streaming, "active", False):
            return starlette.handle_request(request)
        url = request.url
        port = url.port or {"http": 80, "https": 443}[url.scheme]
        headers = [] if "host" in request.headers else [(b"host", url.netloc)]
        headers += [(k.lower().encode(), v.encode()) for k, v in request.headers.multi_items()]
        scope: dict[str, Any] = {
            "type": "http",
            "http_version": "1.1",
            "method": request.method,
            "path": unquote(url.path),
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "root_path": starlette.root_path,
            "scheme": url.scheme,
            "query_string": url.query,
            "headers": headers,
            "client": starlette.client,
            "server": [url.raw_host.decode("ascii"), port],
            "extensions": {"http.response.debug": {}},
            "state": starlette.app_state.copy(),
        }
        exchange = _Exchange(starlette.app, scope, request.read())
        with starlette.portal_factory() as portal:
            portal.call(exchange.run)
        if exchange.error is not None and starlette.raise_server_exceptions:
            raise exchange.error
        if exchange.status is None:
            if starlette.raise_server_exceptions:
                raise AssertionError("TestClient did not receive any response.")
            return httpx.Response(500, request=request)
        response = httpx.Response(
            exchange.status,
            headers=[(k.decode(), v.decode()) for k, v in exchange.headers],
            stream=httpx.ByteStream(b"" if request.method == "HEAD" else b"".join(exchange.chunks)),
            request=request,
        )
        if exchange.debug is not None:
            response.extensions["http.response.debug"] = exchange.debug
            if "template" in exchange.debug:
                response.template = exchange.debug["template"]  # type: ignore[attr-defined]
            if "context" in exchange.debug:
                response.context = exchange.debug["context"]  # type: ignore[attr-defined]
        return response


class FastClient(TestClient):
    """``TestClient`` with ``OneHopTransport`` (see the module's docstring)."""

    __test__ = False

    def __init__(self, app: ASGIApp, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._streaming = threading.local()
        self._transport = OneHopTransport(self._transport, self._streaming)

    @contextlib.contextmanager
    def stream(self, *args: Any, **kwargs: Any) -> Iterator[httpx.Response]:  # type: ignore[override]
        """A response read as it streams: Starlette's own transport, for this request."""
        self._streaming.active = True
        try:
            with super().stream(*args, **kwargs) as response:
                yield response
        finally:
            self._streaming.active = False
