"""The suite's test client (tests/client.py) behaves as Starlette's for what the tests use:
the scope an app sees, request bodies, a failing app, HEAD, a streamed response."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from tests.client import FastClient


def app() -> FastAPI:
    a = FastAPI()

    @a.post("/echo")
    async def echo(request: Request) -> dict[str, object]:
        return {
            "body": (await request.body()).decode(),
            "client": list(request.client or ()),
            "host": request.headers["host"],
            "path": request.url.path,
            "query": request.url.query,
            "root_path": request.scope["root_path"],
        }

    @a.get("/boom")
    def boom() -> None:
        raise RuntimeError("the app failed")

    @a.get("/text")
    def text() -> str:
        return "some text"

    @a.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"one\n", b"two\n", b"three\n"]), media_type="text/plain")

    return a


@pytest.mark.parametrize("client_class", [TestClient, FastClient])
def test_the_app_sees_the_same_request(client_class: type[TestClient]) -> None:
    with client_class(app(), base_url="http://testserver") as client:
        r = client.post("/echo?a=1&b=%C3%A9", content=b"x=1&y=2")
    assert r.status_code == 200
    assert r.json() == {
        "body": "x=1&y=2",
        "client": ["testclient", 50000],
        "host": "testserver",
        "path": "/echo",
        "query": "a=1&b=%C3%A9",
        "root_path": "",
    }


def test_a_failing_app_raises_into_the_test_or_answers_500() -> None:
    with FastClient(app()) as client, pytest.raises(RuntimeError, match="the app failed"):
        client.get("/boom")
    with FastClient(app(), raise_server_exceptions=False) as client:
        assert client.get("/boom").status_code == 500


def test_head_has_no_body_and_a_stream_arrives_whole_either_way() -> None:
    with FastClient(app()) as client:
        head = client.head("/text")
        assert head.status_code in (200, 405) and head.content == b""
        assert client.get("/stream").text == "one\ntwo\nthree\n"
        with client.stream("GET", "/stream") as r:  # Starlette's transport, as it streams
            assert list(r.iter_lines()) == ["one", "two", "three"]
        assert client.get("/text").json() == "some text"  # back to one hop
