"""The OpenAPI document and the Prometheus metrics (authenticated like every other route)."""

from __future__ import annotations

from .base import LlmLabHandler, operation


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
