"""``LlmLabApp``: the Jupyter server extension serving the service layer as a REST API.

Installing the package enables it (``jupyter-config/jupyter_server_config.d``). It builds the
services once from :class:`~llmlab_jupyter.config.LlmLabConfig` (``c.LlmLabConfig.*`` in any
Jupyter config file, or the ``LLMLAB_*`` variables), registers the routes of
:mod:`llmlab_jupyter.server.routes` under ``<base_url>llmlab/``, makes sure the server's user
owns the default project, and closes the store on shutdown.

Who is calling: the request's ``current_user.username`` as the server's identity provider
reports it (JupyterHub, or any provider that identifies users). jupyter-server's stock
providers only check one shared token or password and name every caller "Anonymous ...": on
such a single-user server every authenticated caller *is* the server's user, so the caller is
:attr:`LlmLabApp.server_user` (the operating-system account running the server).

Three modes (:attr:`LlmLabApp.mode`): **local** (the services in this process, as above),
**remote** (a per-user server on a JupyterHub with ``llmlab serve``: no services, no
secrets; every API call is forwarded to the service, see :mod:`llmlab_jupyter.hub.forward`)
and **service** (inside ``llmlab serve``: callers are Hub users, each has a personal
project, and batch jobs call back with job tokens). ``auto`` picks remote when a service is
configured or the Hub has one, else local.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Enum, Int, Unicode, default

from .config import LlmLabConfig, local_user_name
from .exceptions import LlmLabError, NotFound
from .metrics import Metrics, activate
from .services import Caller, Services

if TYPE_CHECKING:
    from .server.prompt_cache import PromptCatalogCache
    from .server.summary_cache import SummaryCache
    from .store.catalog.generations import CatalogProbe

T = TypeVar("T")


class LlmLabApp(ExtensionApp):
    """The llmlab-jupyter server extension."""

    name = "llmlab_jupyter"
    extension_url = "/llmlab/api/openapi.json"
    load_other_extensions = True
    classes = [LlmLabConfig]

    mode = Enum(
        ["auto", "local", "remote", "service"],
        "auto",
        config=True,
        help="local: the services run in this server. remote: forward every llmlab/api/ "
        "call to the llmlab service at LlmLabConfig.service_url (or the one the JupyterHub "
        "knows), holding no secret. service: this is `llmlab serve` (set by it). auto: "
        "remote when a service is configured or found on the Hub, else local.",
    )

    max_upload_bytes = Int(
        100 * 1024 * 1024,
        config=True,
        help="Largest dataset file accepted by the upload endpoint, in bytes (413 beyond).",
    )
    identifies_users = Bool(
        None,
        allow_none=True,
        config=True,
        help="Whether the identity provider tells users apart. None (default): yes unless it "
        "is one of jupyter-server's shared-token/password providers, in which case every "
        "caller is server_user.",
    )
    server_user = Unicode(
        config=True,
        help="The user a single-user (shared-token) server acts for. Defaults to the "
        "operating-system account running the server.",
    )
    default_project_owner = Unicode(
        config=True,
        help="Who owns the default project when the extension creates it at start-up. "
        "Defaults to server_user on a shared-token server; empty means the first user "
        "to call the API on a server that identifies users.",
    )

    api_threads = Int(
        8,
        config=True,
        help="Threads that run the blocking service calls of REST requests (database reads "
        "and writes), so the event loop stays free. Each holds at most one database "
        "connection; the pool of the store has room for twice as many.",
    )

    catalog_cache_max_versions = Int(
        50_000,
        min=0,
        config=True,
        help="Keep an in-memory copy of each recently read project's prompt catalogue (up to "
        "this many versions; larger projects are read from the database) and answer the "
        "prompt list, prompt, version and resolve reads from it while a one-row check shows "
        "nothing changed. 0 turns the copy off.",
    )

    summary_cache_entries = Int(
        256,
        min=0,
        config=True,
        help="Keep this many finished experiments' summaries serialised in memory and answer "
        "from them while a one-row check shows nothing they depend on changed. 0 turns "
        "this off.",
    )

    services: Services
    metrics: Metrics
    catalog: PromptCatalogCache | None = None
    summaries: SummaryCache | None = None
    _probe: CatalogProbe | None = None
    _pool: ThreadPoolExecutor | None = None
    _openapi: bytes | None = None

    @default("server_user")
    def _default_server_user(self) -> str:
        return local_user_name()

    @default("default_project_owner")
    def _default_default_project_owner(self) -> str:
        return "" if self.users_identified else self.server_user

    @property
    def users_identified(self) -> bool:
        known = self.__dict__.get("_users_identified")
        if known is None:
            known = self.__dict__["_users_identified"] = self._identifies_users()
        return bool(known)

    def _identifies_users(self) -> bool:
        if self.identifies_users is not None:
            return bool(self.identifies_users)
        from jupyter_server.auth.identity import (
            IdentityProvider,
            LegacyIdentityProvider,
            PasswordIdentityProvider,
        )

        shared = (IdentityProvider, PasswordIdentityProvider, LegacyIdentityProvider)
        return type(getattr(self.serverapp, "identity_provider", None)) not in shared

    def _resolve_mode(self) -> str:
        """The mode in use: remote needs a service URL, configured or found on the Hub."""
        if self.mode in ("local", "service"):
            return str(self.mode)
        from .hub.discovery import find_service

        found = None
        if self.llmlab_config.service_url:
            found = self.llmlab_config.service_url
        else:
            location = find_service()
            found = location.url if location is not None else None
        if found is None:
            if self.mode == "remote":
                raise NotFound(
                    "remote mode: no llmlab service is configured (LlmLabConfig.service_url) "
                    "or registered in the JupyterHub",
                    field="service_url",
                )
            return "local"
        self.service_url = found if found.endswith("/") else found + "/"
        return "remote"

    def initialize_settings(self) -> None:
        """Build the services and metrics once; ensure the default project."""
        self.llmlab_config = LlmLabConfig(parent=self)
        self.mode_in_use = self._resolve_mode()
        if self.mode_in_use == "remote":
            self.settings["llmlab_service_url"] = self.service_url
            self.settings["llmlab_max_body"] = 2 * self.max_upload_bytes + (1 << 20)
            self.log.info(
                "llmlab: remote mode, every llmlab/api/ call goes to the service at %s",
                self.service_url,
            )
            return
        if self.mode_in_use == "service":
            from . import job_tokens
            from .hub.identity import JOB_TOKEN_CHECK

            self._token_secret = job_tokens.secret_from_env(create=True)
            self.settings[JOB_TOKEN_CHECK] = self._check_job_token
        self.services = Services.from_config(self.llmlab_config)
        self.metrics = activate(Metrics())
        self.metrics.watch_store(self.services.store)
        self._ensured: set[str] = set()
        self.settings["llmlab_metrics"] = self.metrics
        if self.catalog_cache_max_versions > 0 or self.summary_cache_entries > 0:
            from .store.catalog.generations import CatalogProbe

            self._probe = CatalogProbe(self.services.store.engine)
        if self.catalog_cache_max_versions > 0:
            from .server.prompt_cache import PromptCatalogCache

            self.catalog = PromptCatalogCache(
                self.services.store,
                max_versions=self.catalog_cache_max_versions,
                probe=self._probe,
            )
        if self._probe is not None and self.summary_cache_entries > 0:
            from .server.summary_cache import SummaryCache

            self.summaries = SummaryCache(self._probe, max_entries=self.summary_cache_entries)
        owner = self.default_project_owner if self.mode_in_use == "local" else ""
        if owner:
            self._ensure_default(Caller(owner))
        if self.catalog is not None:
            self.catalog.warm(self.llmlab_config.default_project)
        self.services.executor.start()  # job workers + scheduler (no browser needed)
        from .experiments.background import BackgroundRuns

        self.background = BackgroundRuns(self.services.store)
        recovered = self.background.recover()
        if recovered:
            self.log.info("llmlab: %d interrupted experiment(s) can be resumed", recovered)
        from tornado.ioloop import PeriodicCallback

        self._sweeper = PeriodicCallback(self._sweep, 30_000)
        self._sweeper.start()
        self.log.info(
            "llmlab: REST API at %sllmlab/api/ (database %s, callers %s)",
            self.serverapp.base_url if self.serverapp else "/",
            self.services.store.dialect,
            "from the identity provider" if self.users_identified else f"= {self.server_user}",
        )

    async def run_blocking(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in the request thread pool (with the caller's context variables)."""
        import asyncio

        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=max(1, self.api_threads), thread_name_prefix="llmlab-api"
            )
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._pool, context.run, fn)

    def openapi_json(self, base_url: str) -> bytes:
        """This API's OpenAPI document, serialised on the first request."""
        if self._openapi is None:
            import json

            from .server.openapi import openapi_document

            doc = openapi_document(base_url, max_page_size=self.llmlab_config.max_page_size)
            self._openapi = json.dumps(doc).encode()
        return self._openapi

    def initialize_handlers(self) -> None:
        if getattr(self, "mode_in_use", "local") == "remote":
            from .hub.forward import forward_handlers

            self.handlers.extend(forward_handlers())
            return
        from .server.routes import tornado_handlers

        self.handlers.extend(tornado_handlers())

    async def _check_job_token(self, token: str) -> dict[str, Any] | None:
        """The Hub-like user model of a job token's owner while its attempt runs; else None."""
        from . import job_tokens

        claims = job_tokens.verify(self._token_secret, token)
        if claims is None:
            return None

        def current() -> bool:
            try:
                job = self.services.store.job_by_id(claims.job_id)
            except NotFound:
                return False
            return job.state == "running" and job.attempts == claims.attempt

        if not await self.run_blocking(current):
            return None  # the job ended, was cancelled or another attempt took over
        return {"name": claims.user, "kind": "job", "job": claims.job_id, "admin": False}

    def default_project_for(self, caller: Caller) -> str:
        """The project a caller starts in: the configured default, or on the service each
        user's personal project (named after them)."""
        if getattr(self, "mode_in_use", "local") == "service":
            return personal_project(caller.user)
        return self.llmlab_config.default_project

    def caller_for(self, user: Any) -> Caller:
        """The :class:`Caller` for a request's ``current_user``: its name, and on JupyterHub
        the groups and admin flag of its Hub user model (``user.hub_user``)."""
        caller = self._caller(user)
        if caller.user not in self._ensured:
            self._ensure_default(caller)
        return caller

    def known_caller(self, user: Any) -> Caller | None:
        """The caller, if :meth:`caller_for` has nothing left to set up (no database write);
        ``None`` otherwise. For work on the event loop, which must not wait on a write."""
        caller = self._caller(user)
        return caller if caller.user in self._ensured else None

    def _caller(self, user: Any) -> Caller:
        """Groups and admin come from the request's user only, never from the environment: a
        ``dict`` ``hub_user`` (JupyterHub's single-user ``JupyterHubUser``, or the service's
        user), else none."""
        name = self._user_name(user)
        if not self.users_identified:
            return Caller(name)
        hub_user = getattr(user, "hub_user", None)
        return Caller.from_hub_user(name, hub_user if isinstance(hub_user, dict) else None)

    def _user_name(self, user: Any) -> str:
        if not self.users_identified:
            return str(self.server_user)
        return str(getattr(user, "username", "") or "")

    def _ensure_default(self, caller: Caller) -> None:
        """The default project exists (owned by the first user to need it)."""
        try:
            self.services.projects.ensure(caller, self.default_project_for(caller))
        except LlmLabError as err:  # not a member of someone else's default project
            self.log.debug("llmlab: default project not ensured for %s: %s", caller.user, err)
        self._ensured.add(caller.user)

    async def _sweep(self) -> None:
        """Runs elsewhere whose heartbeat went stale become ``interrupted``."""
        import asyncio

        try:
            await asyncio.to_thread(self.background.recover)
        except Exception:  # a database hiccup must not stop the sweeper
            self.log.exception("llmlab: sweeping interrupted experiments failed")

    async def stop_extension(self) -> None:
        """Stop background runs (they resume later), then close the store on shutdown."""
        if getattr(self, "mode_in_use", "local") == "remote":
            from .hub.forward import SESSION_KEY

            web_app = getattr(self.serverapp, "web_app", None)
            session = web_app.settings.get(SESSION_KEY) if web_app is not None else None
            if session is not None:  # the pooled connections to the service
                await session.close()
            return  # nothing else of ours runs here
        sweeper = getattr(self, "_sweeper", None)
        if sweeper is not None:
            sweeper.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self.catalog is not None:
            self.catalog.close()
            self.catalog = None
        self.summaries = None
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        background = getattr(self, "background", None)
        if background is not None:
            import asyncio

            await asyncio.to_thread(background.shutdown)
        services = getattr(self, "services", None)
        if services is not None:
            if "executor" in services.__dict__:
                services.executor.stop()  # running jobs go back to the queue
            services.close()


def personal_project(user: str) -> str:
    """The slug of a user's personal project on the service: their name, made a slug."""
    import hashlib
    import re

    slug = re.sub(r"[^a-z0-9._-]+", "-", user.lower()).strip("._-")[:90]
    slug = re.sub(r"\.\.+", ".", slug)
    if slug != user.lower():  # keep distinct users distinct
        slug = f"{slug or 'user'}-{hashlib.sha256(user.encode()).hexdigest()[:6]}"
    return slug
