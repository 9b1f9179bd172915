"""The one error model: every 4xx and 5xx is ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("lakehouse_assets.serving")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class TableMissing(ApiError):
    """A table the request needs has never been built (no Delta log at its path)."""

    def __init__(self, table: str, path: str, root: str):
        layer, name = table.split(".")
        super().__init__(
            503, "table_missing", f"table {table} does not exist yet at {path}",
            table=table, path=path,
            how_to_build=f"lakehouse-build --landing-root <landing root> --lakehouse-root {root}"
            f"  (or materialize the asset {layer}/{name} in Dagster)",
        )


def _response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return _response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        problems = [
            {"parameter": ".".join(str(p) for p in e["loc"][1:]) or e["loc"][0],
             "problem": e["msg"], **({"allowed": e["ctx"]["expected"]}
                                     if "expected" in e.get("ctx", {}) else {})}
            for e in exc.errors()
        ]
        first = problems[0]
        return _response(ApiError(422, "invalid_parameter",
                                  f"{first['parameter']}: {first['problem']}", problems=problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
        return _response(ApiError(exc.status_code, code.get(exc.status_code, "http_error"),
                                  str(exc.detail)))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # The trace goes to the log, never to the client.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _response(ApiError(500, "internal_error", "internal error; see the server log"))
