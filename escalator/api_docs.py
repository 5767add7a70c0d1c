"""/docs served from the swagger-ui-bundle package: no CDN (the service runs offline) and no inline script (CSP)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

INITIALIZER = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/docs/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
};
"""


def add_api_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs for the app's OpenAPI schema (the app is built with docs_url=None)."""
    import swagger_ui_bundle

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return RedirectResponse("/docs/")

    @app.get("/docs/swagger-initializer.js", include_in_schema=False)
    async def initializer() -> Response:
        return Response(INITIALIZER, media_type="text/javascript")

    @app.get("/docs/openapi.json", include_in_schema=False)
    async def schema_for_swagger_ui() -> dict[str, Any]:
        # The packaged Swagger UI (4.x) refuses "openapi": "3.1.x" outright, though it renders FastAPI's schema fine.
        return {**app.openapi(), "openapi": "3.0.3"}

    app.mount("/docs", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path, html=True), name="docs")
