"""The OpenAPI 3.1 document, generated from the route table and the pydantic models.

Nothing is written by hand: paths come from :data:`~.routes.API_ROUTES`, operations from the
:func:`~.handlers.base.operation` metadata on each handler method, schemas from the models.
So the document cannot drift from the code; ``tests/server/test_openapi.py`` checks it both
ways against the routes the running server registers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from tornado import web

from .._version import __version__
from ..prompts import _SLUG
from .handlers.base import HTTP_ERROR_CODES, Operation
from .routes import API_PREFIX, API_ROUTES, Route
from .schemas.common import MAX_INT, Error

METHODS = ("get", "post", "put", "delete", "patch")
REF = "#/components/schemas/{model}"
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "number": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    "user": {"type": "string", "minLength": 1, "maxLength": 200},
}
_SLUG_SCHEMA = {"type": "string", "pattern": _SLUG.pattern, "maxLength": 100}


def operations(handler: type[web.RequestHandler]) -> dict[str, Operation]:
    """The documented operations a handler implements, by lower-case HTTP method."""
    found: dict[str, Operation] = {}
    for method in METHODS:
        fn = getattr(handler, method, None)
        if fn is None or fn is getattr(web.RequestHandler, method):
            continue
        meta = getattr(fn, "__llmlab_operation__", None)
        if meta is not None:
            found[method] = meta
    return found


def _operation_id(method: str, handler: type) -> str:
    return method + handler.__name__.removesuffix("Handler")


def _no_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop ``null`` from ``anyOf``."""
    options = schema.get("anyOf")
    if options:
        kept = [o for o in options if o.get("type") != "null"]
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        if len(kept) == 1:
            return {**rest, **kept[0]}
        return {**rest, "anyOf": kept}
    return schema


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    props = model.model_json_schema()["properties"]
    params = []
    for name, info in model.model_fields.items():
        schema = _no_null(dict(props[name]))
        schema.pop("title", None)
        if schema.get("default", 0) is None:
            del schema["default"]
        description = schema.pop("description", None) or info.description
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": info.is_required(),
            "schema": schema,
        }
        if description:
            param["description"] = description
        params.append(param)
    return params


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(_PATH_SCHEMAS.get(name, _SLUG_SCHEMA)),
        }
        for name in route.params
    ]


def _models() -> list[tuple[type[BaseModel], Any]]:
    seen: dict[tuple[type[BaseModel], str], None] = {(Error, "serialization"): None}
    for route in API_ROUTES:
        for op in operations(route.handler).values():
            if op.response is not None:
                seen[(op.response, "serialization")] = None
            if op.body is not None:
                seen[(op.body, "validation")] = None
    return list(seen)  # type: ignore[arg-type]


def _error_responses(codes: tuple[int, ...], error_ref: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code in sorted({*codes, 403}):
        out[str(code)] = {
            "description": HTTP_ERROR_CODES.get(code, "error"),
            "content": {"application/json": {"schema": error_ref}},
        }
    return out


def openapi_document(base_url: str = "/", *, max_page_size: int | None = None) -> dict[str, Any]:
    """The OpenAPI document of the REST API served under ``base_url``."""
    pairs = _models()
    key_map, defs = models_json_schema(pairs, ref_template=REF)
    refs = {pair: key_map[pair] for pair in pairs}
    error_ref = refs[(Error, "serialization")]
    paths: dict[str, Any] = {}
    for route in API_ROUTES:
        item: dict[str, Any] = {}
        path_params = _path_parameters(route)
        for method, op in operations(route.handler).items():
            params = list(path_params)
            if op.query is not None:
                params += _query_parameters(op.query)
            if max_page_size is not None:
                for p in params:
                    if p["in"] == "query" and p["name"] == "limit":
                        p["schema"]["maximum"] = max_page_size
            responses: dict[str, Any] = {}
            for status in (op.status, *op.alt_status):
                if status == 204:
                    responses["204"] = {"description": "done, no content"}
                    continue
                if op.response is not None:
                    content_schema = refs[(op.response, "serialization")]
                elif op.content_type == "application/json":
                    content_schema = {"type": "object"}
                else:
                    content_schema = {"type": "string"}
                responses[str(status)] = {
                    "description": op.summary,
                    "content": {op.content_type.split(";")[0]: {"schema": content_schema}},
                }
            responses.update(_error_responses(op.errors, error_ref))
            doc: dict[str, Any] = {
                "operationId": _operation_id(method, route.handler),
                "summary": op.summary,
                "tags": [_tag(route.path)],
                "x-llmlab-action": op.action,
                "parameters": params,
                "responses": responses,
            }
            if op.body is not None:
                doc["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
                }
            elif op.raw_body is not None:
                doc["requestBody"] = op.raw_body
            item[method] = doc
        paths[route.path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LLM Lab REST API",
            "version": __version__,
            "description": "Projects, versioned prompts and datasets of llmlab-jupyter. "
            "Errors are {message, error_code[, field]}. Every operation needs a token "
            "(Authorization: token <token>) or a login cookie plus an X-XSRFToken header for "
            "writes.",
        },
        "servers": [{"url": base_url.rstrip("/") + API_PREFIX}],
        "security": [{"token": []}, {"cookie": []}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token <your Jupyter server token>`",
                },
                "cookie": {"type": "apiKey", "in": "cookie", "name": "_xsrf"},
            },
        },
    }


def _tag(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    if len(parts) >= 2 and parts[0] == "projects":
        return parts[1] if parts[1] != "render-preview" else "prompts"
    return parts[0].removesuffix(".json") if parts else "meta"
