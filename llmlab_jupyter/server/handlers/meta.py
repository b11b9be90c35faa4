"""The OpenAPI document, the caller's identity and the Prometheus metrics (authenticated
like every other route)."""

from __future__ import annotations

from ..schemas.common import MeResponse
from .base import LlmLabHandler, operation


class MeHandler(LlmLabHandler):
    @operation("read", "Who is calling, and the project they start in", response=MeResponse)
    def get(self) -> MeResponse:
        caller = self.caller
        return MeResponse(
            user=caller.user,
            default_project=self.llmlab.default_project_for(caller),
            groups=sorted(getattr(caller, "groups", ())),
            admin=bool(getattr(caller, "admin", False)),
        )


class OpenAPIHandler(LlmLabHandler):
    @operation("read", "This API's OpenAPI 3.1 document", errors=(403,))
    def get(self) -> bytes:
        return self.llmlab.openapi_json(self.base_url)


class MetricsHandler(LlmLabHandler):
    @operation(
        "read",
        "Prometheus metrics of this server",
        errors=(403,),
        content_type="text/plain; version=0.0.4; charset=utf-8",
    )
    def get(self) -> bytes:
        payload, _ = self.llmlab.metrics.render()
        return payload
