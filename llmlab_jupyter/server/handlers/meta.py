"""The OpenAPI document and the Prometheus metrics (authenticated like every other route)."""

from __future__ import annotations

import json

from .base import LlmLabHandler, operation


class OpenAPIHandler(LlmLabHandler):
    @operation("read", "This API's OpenAPI 3.1 document", errors=(403,))
    def get(self) -> bytes:
        from ..openapi import openapi_document

        cached = self.settings.get("llmlab_openapi")
        if cached is None:
            doc = openapi_document(
                self.base_url, max_page_size=self.llmlab.llmlab_config.max_page_size
            )
            cached = self.settings["llmlab_openapi"] = json.dumps(doc).encode()
        return cached


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
