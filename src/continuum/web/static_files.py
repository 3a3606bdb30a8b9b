"""Static assets served from this package and Swagger UI from the fastapi-offline package
(no CDN). Charts are drawn on the server as SVG (``core.trend_chart``): no chart library."""

from __future__ import annotations

from pathlib import Path

from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def static_app() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


def swagger_ui_dir() -> Path:
    """Swagger UI 5 (renders OpenAPI 3.1, which FastAPI writes), as the fastapi-offline
    package ships it: swagger-ui-bundle.js and swagger-ui.css, served from here."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def swagger_app() -> StaticFiles:
    """Swagger UI for /api/docs (no CDN)."""
    return StaticFiles(directory=swagger_ui_dir())
