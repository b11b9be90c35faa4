"""The base of every llmlab REST handler: authentication, authorization and errors, once.

Each handler method is declared with :func:`operation`, which

* authenticates (``@web.authenticated``: an anonymous call gets 403, never a redirect) and
  authorizes through the server's authorizer (resource ``llmlab``, action ``read`` or
  ``write``);
* parses and validates the query string and JSON body into pydantic models;
* runs the method (which calls the blocking services) in the app's thread pool
  (:meth:`LlmLabApp.run_blocking`), so the event loop keeps serving other requests; an
  ``async def`` method runs on the loop and offloads its own blocking work. A method may read
  the request and set headers, but writing the reply is left to the loop;
* maps :class:`~llmlab_jupyter.exceptions.LlmLabError` to its status and
  ``{"message", "error_code"[, "field"]}``, and validation errors to 400 naming the field;
* serialises the returned model as JSON;
* records the OpenAPI metadata the document is generated from.

Anything unexpected becomes a 500 with a generic message; the traceback goes to the server log
only. :meth:`LlmLabHandler.write_error` makes even tornado's own errors (405, XSRF 403) JSON.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.client import responses
from typing import TYPE_CHECKING, Any, Literal, cast

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import BaseModel, ValidationError
from tornado import web

from ...exceptions import InvalidInput, LlmLabError, NotFound
from ...services import Caller
from ..schemas.common import MAX_INT

if TYPE_CHECKING:
    from ...services import Services
    from ..host import ApiHost

AUTH_RESOURCE = "llmlab"
Action = Literal["read", "write"]
#: answers a read from a current catalogue copy, or ``None`` (see :func:`operation`)
Cached = Callable[..., "bytes | None"]

#: error_code for HTTP errors raised by tornado or jupyter-server rather than by us.
HTTP_ERROR_CODES = {
    400: "invalid_input",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one handler method."""

    action: Action
    summary: str
    response: type[BaseModel] | None = None
    status: int = 200
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    raw_body: dict[str, Any] | None = None
    alt_status: tuple[int, ...] = ()
    errors: tuple[int, ...] = (400, 403, 404)
    content_type: str = "application/json"
    tags: tuple[str, ...] = field(default_factory=tuple)


@dataclass
class Reply:
    """A response body with a status other than the operation's default."""

    body: BaseModel | None
    status: int


def operation(
    action: Action,
    summary: str,
    *,
    response: type[BaseModel] | None = None,
    status: int = 200,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    raw_body: dict[str, Any] | None = None,
    alt_status: tuple[int, ...] = (),
    errors: tuple[int, ...] = (400, 403, 404),
    content_type: str = "application/json",
    cached: Cached | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Awaitable[None]]]:
    """Declare an authenticated, authorized REST operation (see the module docstring).

    The method receives the path arguments, then ``query=`` and ``body=`` models when declared,
    and returns a pydantic model, a :class:`Reply`, ``bytes`` (for non-JSON content) or
    ``None`` (204).

    ``cached`` (prompt reads only) answers from the server's current copy of the project's
    prompt catalogue, on the event loop: called as ``cached(handler, view, *args[1:],
    **kwargs)`` once the caller is known to have a role in project ``args[0]``, it returns the
    response body, or ``None`` to let the method answer (see ``server/prompt_cache.py``).
    """
    meta = Operation(
        action, summary, response, status, query, body, raw_body, alt_status, errors, content_type
    )

    def decorate(method: Callable[..., Any]) -> Callable[..., Awaitable[None]]:
        is_async = inspect.iscoroutinefunction(method)

        @functools.wraps(method)
        async def run(self: LlmLabHandler, *args: str) -> None:
            try:
                self.reject_nul(args)
                kwargs: dict[str, Any] = {}
                if query is not None:
                    kwargs["query"] = self.parse_query(query)
                if body is not None:
                    kwargs["body"] = self.parse_body(body)
                if cached is not None:
                    hit = await self.from_catalog(cached, args, kwargs)
                    if hit is not None:
                        self.set_status(meta.status)
                        self.finish(hit)
                        return
                if is_async:
                    result = await method(self, *args, **kwargs)
                else:  # the blocking service call runs in the app's pool, not on the loop
                    result = await self.llmlab.run_blocking(
                        functools.partial(method, self, *args, **kwargs)
                    )
            except LlmLabError as err:
                self.send_json_error(err.status_code, err.to_dict())
                return
            except ValidationError as err:
                self.send_json_error(400, validation_error_body(err))
                return
            self.reply(result, meta)

        protected = web.authenticated(authorized(action, resource=AUTH_RESOURCE)(run))
        protected.__llmlab_operation__ = meta  # type: ignore[attr-defined]
        return cast("Callable[..., Awaitable[None]]", protected)

    return decorate


def validation_error_body(err: ValidationError) -> dict[str, Any]:
    """A 400 body naming the first invalid field (pydantic's ``loc`` joined with dots)."""
    first = err.errors(include_url=False, include_input=False)[0]
    loc = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
    message = first.get("msg", "invalid input")
    body: dict[str, Any] = {
        "message": f"{loc}: {message}" if loc else message,
        "error_code": "invalid_input",
    }
    if loc:
        body["field"] = loc
    return body


def to_int(value: str, field: str, *, minimum: int = 1) -> int:
    """An integer path argument ``>= minimum``, or ``InvalidInput`` naming ``field``."""
    if (
        not (value.isascii() and value.isdigit())
        or len(value) > 10
        or not minimum <= int(value) <= MAX_INT
    ):
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise InvalidInput(f"{field} must be {kind}; got {value!r}", field=field)
    return int(value)


class LlmLabHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every llmlab handler (JSON in, JSON out)."""

    route: str = ""

    def initialize(self, name: str, route: str = "", **kwargs: Any) -> None:  # type: ignore[override]
        super().initialize(name, **kwargs)
        self.route = route

    # -- context ------------------------------------------------------------------------
    @property
    def llmlab(self) -> ApiHost:
        """The host serving this handler (the extension app, which implements ``ApiHost``)."""
        return cast("ApiHost", self.extensionapp)

    @property
    def services(self) -> Services:
        return self.llmlab.services

    @property
    def caller(self) -> Caller:
        """The calling user, from the request's ``current_user`` (see ``LlmLabApp.caller_for``)."""
        return self.llmlab.caller_for(self.current_user)

    async def from_catalog(
        self, cached: Cached, args: tuple[str, ...], kwargs: dict[str, Any]
    ) -> bytes | None:
        """The body ``cached`` gives from the current catalogue of project ``args[0]``, if
        the caller may read it; ``None`` (the ordinary path answers) otherwise."""
        catalog = self.llmlab.catalog
        if catalog is None:
            return None
        try:
            caller = self.llmlab.known_caller(self.current_user)
            if caller is None:
                return None  # its first request sets the user up (a write): not on the loop
            view = await catalog.current(args[0])
            if view is None or not view.can_read(caller):
                return None
            body = cached(self, view, *args[1:], **kwargs)
        except LlmLabError:
            return None  # the ordinary path gives the error
        except Exception:  # the ordinary path still answers; never a 500 from the copy
            self.log.exception("llmlab: answering from the prompt catalogue copy failed")
            return None
        if body is not None:
            catalog.served += 1
        return body

    # -- input --------------------------------------------------------------------------
    def reject_nul(self, args: tuple[str, ...]) -> None:
        """NUL characters cannot be stored (PostgreSQL text): refuse them in the URL and body."""
        if any(a and "\x00" in a for a in args) or "%00" in self.request.uri.lower():
            raise InvalidInput("NUL characters are not allowed in the URL", field="url")
        ctype = self.request.headers.get("Content-Type", "")
        if ("json" in ctype or not ctype) and b"\\u0000" in self.request.body.lower():
            raise InvalidInput("NUL characters are not allowed", field="body")

    def parse_query(self, model: type[BaseModel]) -> BaseModel:
        values: dict[str, Any] = {}
        for key in self.request.query_arguments:
            raw = self.get_query_arguments(key)
            values[key] = raw[-1] if raw else ""
        try:
            return model.model_validate(values)
        except ValidationError as err:
            raise InvalidInput(**_invalid(err, "query")) from err

    def parse_body(self, model: type[BaseModel]) -> BaseModel:
        raw = self.request.body
        if not raw:
            raise InvalidInput("a JSON request body is required", field="body")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise InvalidInput(f"the request body is not valid JSON: {err}", field="body") from err
        if not isinstance(data, dict):
            raise InvalidInput("the request body must be a JSON object", field="body")
        try:
            return model.model_validate(data)
        except ValidationError as err:
            raise InvalidInput(**_invalid(err, "body")) from err

    # -- output -------------------------------------------------------------------------
    def reply(self, result: Any, meta: Operation) -> None:
        status = meta.status
        if isinstance(result, Reply):
            result, status = result.body, result.status
        if result is None:
            self.set_status(204)
            self.finish()
            return
        self.set_status(status)
        if isinstance(result, bytes):
            self.finish(result, set_content_type=meta.content_type)
        else:
            self.finish(result.model_dump_json())

    def send_json_error(self, status: int, body: dict[str, Any]) -> None:
        self.clear()
        self.set_status(status)
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every error is ``{"message", "error_code"}``; no traceback ever leaves the server."""
        message = responses.get(status_code, "error")
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError):
            message = exc.log_message or exc.reason or message
            if exc.log_message and exc.args:
                try:
                    message = exc.log_message % exc.args
                except (TypeError, ValueError):
                    message = exc.log_message
        elif status_code >= 500:
            message = "internal server error (details are in the server log)"
        code = HTTP_ERROR_CODES.get(status_code, f"http_{status_code}")
        if status_code == 403 and not self.current_user:
            code, message = "unauthenticated", "authentication required (token or login cookie)"
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": str(message), "error_code": code}))

    def on_finish(self) -> None:
        super().on_finish()
        metrics = self.settings.get("llmlab_metrics")
        if metrics is not None:
            metrics.observe_request(
                self.request.method or "",
                self.route or "unknown",
                self.get_status(),
                self.request.request_time(),
            )


def _invalid(err: ValidationError, where: str) -> dict[str, Any]:
    body = validation_error_body(err)
    return {"message": body["message"], "field": body.get("field", where)}


class NotFoundHandler(LlmLabHandler):
    """Anything else under ``/llmlab/api``: a JSON 404 (authenticated like the rest)."""

    @operation("read", "Unknown route", errors=(404,))
    def get(self, *args: str) -> None:
        raise NotFound("no such API route")

    @operation("write", "Unknown route", errors=(404,))
    def post(self, *args: str) -> None:
        raise NotFound("no such API route")

    put = post
    delete = post
    patch = post
