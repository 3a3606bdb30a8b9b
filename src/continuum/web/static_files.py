"""Static assets served from this package, Plotly's JS from the plotly package and Swagger
UI from the fastapi-offline package (no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter()


def plotly_js_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@router.get("/static/vendor/plotly.min.js", include_in_schema=False)
def plotly_js() -> FileResponse:
    return FileResponse(
        plotly_js_path(),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


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
