"""The API documentation page in a real browser: an integrator (the integration role) opens
/api/docs, Swagger UI renders the OpenAPI 3.1 document from local files (no CDN), lists the
operations and shows a response shape. Set CONTINUUM_SCREENSHOTS=<folder> to keep the
screenshots (1280, 1024 and 390 px wide)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("CONTINUUM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def test_integrator_sees_every_operation_and_its_response_shape(page: Page) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, "integration", then="/api/docs")
    # Swagger UI 4 could not read an OpenAPI 3.1 document and showed only an error
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ECMO Continuum")
    expect(page.locator(".swagger-ui")).not_to_contain_text("Unable to render this definition")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    spec = page.request.get("/api/openapi.json").json()
    listed = sum(len(ops) for path, ops in spec["paths"].items())
    expect(operations).to_have_count(listed)
    run = page.locator(".opblock-get", has=page.locator("[data-path='/api/v1/runs/{run_id}']"))
    expect(run).to_be_visible()
    _shot(page, "api-docs-1280")
    # opening an operation shows its declared answer: the run summary's fields and units
    run.locator(".opblock-summary").click()
    body = run.locator(".opblock-body")
    expect(body).to_contain_text("Successful Response")
    body.locator(".responses-wrapper .model-example button", has_text="Schema").first.click()
    expect(body).to_contain_text("RunSummaryOut")
    _shot(page, "api-docs-run-1280")
    for width in (1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        _shot(page, f"api-docs-run-{width}")
    assert not errors, errors
    assert all(u.startswith(page.url.split("/api/docs")[0]) for u in requests), requests
