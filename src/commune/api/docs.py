"""Swagger UI at /docs from the swagger-ui-bundle package (Apache-2.0), no CDN: the API's
description must work on a machine without internet. The description itself says what the
routes answer, /v1's refusals included."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse


def offline_docs(app: FastAPI) -> None:
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    app.mount(
        "/static/swagger",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="swagger-ui",
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="Commune API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )


def openai_refuses_with_400(app: FastAPI) -> None:
    """Take FastAPI's 422 off /v1's routes in /openapi.json: they answer a body that does not
    match the schema with 400 and OpenAI's error object, as OpenAI does (api/errors.py), and
    the description declared a 422 with pydantic's list that no /v1 route sends. FastAPI adds
    that 422 to every route with a body or parameters, with no switch per route."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:  # built once, as FastAPI's own
            return app.openapi_schema
        spec = build()  # which keeps it in app.openapi_schema: edited in place
        for path, operations in spec["paths"].items():
            if path.startswith("/v1/"):
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
        _unprocessable_says_why(spec["components"]["schemas"])
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _unprocessable_says_why(schemas: dict[str, Any]) -> None:
    """FastAPI's 422 as Commune answers it (api/errors.py): pydantic's list, and beside it
    the code and the line to show a person, which the description left out. A client
    generated from it had no ``message`` to show, the one field the docs say to show."""
    declared = schemas.get("HTTPValidationError")
    if declared is None:  # no route validates anything
        return
    declared["properties"]["code"] = {
        "type": "string",
        "title": "Code",
        "description": "invalid_request, as every refusal of the request's values.",
    }
    declared["properties"]["message"] = {
        "type": "string",
        "title": "Message",
        "description": "One line naming each wrong field, in the caller's language: "
        "French, or English when Accept-Language prefers it.",
    }
    declared["required"] = ["detail", "code", "message"]
