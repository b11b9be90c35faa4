"""What the REST handlers need from the process that serves them.

The handlers are written against :class:`ApiHost`, not against a particular application, so
one set of handlers can be served by any host (today the Jupyter server extension,
:class:`~llmlab_jupyter.app.LlmLabApp`). The host builds the services, caches and metrics;
the handlers only read them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from ..config import LlmLabConfig
    from ..experiments.background import BackgroundRuns
    from ..metrics import Metrics
    from ..services import Caller, Services
    from .prompt_cache import PromptCatalogCache
    from .summary_cache import SummaryCache

T = TypeVar("T")


class ApiHost(Protocol):
    """The services and per-process state behind the API."""

    services: Services
    llmlab_config: LlmLabConfig
    metrics: Metrics
    background: BackgroundRuns
    #: the in-memory prompt catalogue copy (``None`` when turned off)
    catalog: PromptCatalogCache | None
    #: finished experiments' summaries kept in memory (``None`` when turned off)
    summaries: SummaryCache | None
    max_upload_bytes: int

    def caller_for(self, user: Any) -> Caller:
        """The caller of a request's ``current_user`` (set up on first use)."""

    def default_project_for(self, caller: Caller) -> str:
        """The project ``caller`` starts in (the default one, or their personal project)."""

    def known_caller(self, user: Any) -> Caller | None:
        """The caller, if nothing is left to set up for them (no write needed); else ``None``."""

    async def run_blocking(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` off the event loop, in the request thread pool."""

    def openapi_json(self, base_url: str) -> bytes:
        """This API's OpenAPI document, serialised (built once)."""
