"""Response headers and request size limits, as plain ASGI middleware wrapped around the
whole application — outside Starlette's error middleware, so 500 pages get them too.

Content-Security-Policy: scripts only from this site (no inline script, no eval); the
pages' scripts are files under /static and their data sits in ``<script
type="application/json">`` blocks, which are never executed. Styles allow 'unsafe-inline'
(templates and the server-drawn charts use style attributes); styles cannot run
code. ``frame-ancestors 'none'`` forbids framing (clickjacking).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from fastapi import HTTPException  # FastAPI re-raises its own from body parsing
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(secure: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    ]
    if secure:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeaders:
    """Adds the security headers to every HTTP response (replacing any a route set), and
    ``Cache-Control: no-store`` outside /static unless the route chose otherwise."""

    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.headers = security_headers(secure)
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        cacheable = scope["path"].startswith("/static")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                kept = [(k, v) for k, v in headers if k.lower() not in self.names]
                if not cacheable and not any(k.lower() == b"cache-control" for k, _ in kept):
                    kept.append((b"cache-control", b"no-store"))  # clinical pages: never cached
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB"


class BodyLimit:
    """Refuses request bodies over the limit with 413, before the application reads them
    (declared Content-Length) or as soon as the running count passes it (chunked bodies).
    The body is never echoed. ``uploads`` are path patterns with the larger upload limit."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int, uploads: Iterable[str]) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.uploads = [re.compile(p) for p in uploads]

    def limit_for(self, path: str) -> int:
        if any(p.fullmatch(path) for p in self.uploads):
            return self.upload_limit
        return self.limit

    def message(self, limit: int) -> str:
        text = f"the request is larger than {_mib(limit)}, the most this address accepts"
        if limit < self.upload_limit:
            text += (
                "; larger console CSV files go through the run's upload page "
                f"(up to {_mib(self.upload_limit)}) or `continuum ingest csv`"
            )
        return text

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            if int(declared) <= DRAIN_MAX:
                await _drain(receive)
            await self._refuse(scope, send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, self.message(limit))
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        text = self.message(limit)
        if scope["path"].startswith("/api/"):
            body = json.dumps({"error": "payload_too_large", "message": text}).encode()
            kind = b"application/json"
        else:
            body = (
                "<!doctype html><title>Too large · ECMO Continuum</title>"
                f"<h1>Too large</h1><p>{text[0].upper() + text[1:]}.</p>"
                '<p><a href="/">Start page</a></p>'
            ).encode()
            kind = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", kind),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# A body refused by its declared length is read and discarded first when it is no larger
# than this: a reverse proxy that streams the body (Caddy) otherwise meets a closed
# connection while still sending and answers 502 instead of the app's 413.
DRAIN_MAX = 16 * 1024 * 1024


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
