"""HTTP edge of the worker: bounded body reading and the one JSON error shape callers get.

Every refusal is ``{"error": {"code": "...", "message": "..."}}`` with a 4xx status; an unexpected bug is
a 500 with the same shape and no traceback (the traceback goes to the server log, never to the caller).

::

    ApiError(status, code, message)      raised by routes; rendered as above
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send

log = logging.getLogger(__name__)


#: Deepest JSON nesting accepted. Real payloads nest a few levels; 100,000 levels used to end in a
#: RecursionError (a 500) in the parser, the validator or the serializer.
MAX_JSON_DEPTH = 32


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def check_declared_length(declared: str | None, limit: int) -> None:
    """413 at once when the ``Content-Length`` header already says the body is too large."""
    if declared is not None:
        try:
            if int(declared) > limit:
                raise ApiError(413, "body_too_large", f"the body is larger than {limit} bytes")
        except ValueError as exc:
            raise ApiError(400, "bad_content_length", "the Content-Length header is not a number") from exc


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, reading at most ``limit`` bytes: a larger body gets 413 without being buffered."""
    check_declared_length(request.headers.get("content-length"), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "body_too_large", f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def receive_body(receive: Receive, headers: Mapping[str, str], limit: int) -> bytes | None:
    """:func:`read_body` for a raw ASGI route: the body (at most ``limit`` bytes), or None if the client left."""
    check_declared_length(headers.get("content-length"), limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "body_too_large", f"the body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_json(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """Answer a raw ASGI request with JSON bytes (the same headers Starlette's ``JSONResponse`` sends)."""
    raw = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    if headers:
        raw.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def serve_raw(send: Send, answer: Callable[[], Awaitable[tuple[int, bytes] | None]]) -> None:
    """Send what a bare ASGI endpoint's ``answer`` gives (status, JSON body; None: nothing to send).

    A refusal (:class:`ApiError`) is answered as the app's error handlers answer it, and an unexpected bug
    as a 500 of the same shape with no traceback (logged): the fast paths skip those handlers, not their
    promise that a caller never sees a stack trace.
    """
    try:
        result = await answer()
    except ApiError as exc:
        await send_json(send, exc.status, error_json(exc.code, exc.message), exc.headers)
        return
    except Exception as exc:
        log.error("unhandled %s while serving a request", type(exc).__name__)
        await send_json(send, 500, error_json("internal_error", "internal error; nothing was accepted"))
        return
    if result is not None:
        await send_json(send, *result)


def render_json(content: Any) -> bytes:
    """JSON bytes exactly as Starlette's ``JSONResponse`` renders them."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


def error_json(code: str, message: str) -> bytes:
    """:func:`error_body` rendered as Starlette's ``JSONResponse`` renders it."""
    return render_json(error_body(code, message))


def asgi_headers(scope: Scope) -> dict[str, str]:
    """A raw ASGI request's headers by lower-case name; of a repeated header the first, as Starlette's."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(scope["headers"])}


def replay_request(request: Request, body: bytes) -> Request:
    """A request whose body can be read again (for libraries that read it themselves, e.g. slack-bolt)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


def require_json(request: Request) -> None:
    check_json_type(request.headers.get("content-type"))


def check_json_type(content_type: str | None) -> None:
    """415 unless the ``Content-Type`` header says JSON."""
    if (content_type or "").split(";", 1)[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")


def parse_json(body: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode JSON, refusing malformed or too deeply nested documents with a 400."""
    try:
        value = json.loads(body)
    except RecursionError as exc:
        raise ApiError(400, "too_deep", f"the JSON nests deeper than {max_depth} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON ({_where(exc)})") from exc
    # Nesting needs an opening bracket per level: a body with fewer brackets (brackets inside strings
    # included) cannot be too deep, and a webhook's few brackets skip the walk.
    brackets = body.count(b"{") + body.count(b"[") if isinstance(body, bytes) else body.count("{") + body.count("[")
    if brackets > max_depth and json_depth(value) > max_depth:
        raise ApiError(400, "too_deep", f"the JSON nests deeper than {max_depth} levels")
    return value


def json_depth(value: Any) -> int:
    """Nesting depth of decoded JSON, without recursion (so it cannot overflow the stack itself)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _where(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    return "not UTF-8"


def validation_message(errors: Any) -> str:
    parts = []
    for err in list(errors)[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",)) or "(body)"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(error_body("invalid_request", validation_message(exc.errors())), status_code=422)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http_{exc.status_code}")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)

    async def crash(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s while serving a request", type(exc).__name__)
        return JSONResponse(error_body("internal_error", "internal error; nothing was accepted"), status_code=500)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, crash)
