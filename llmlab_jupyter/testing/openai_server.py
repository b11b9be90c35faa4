"""An OpenAI-compatible test server (aiohttp.web) for tests, benchmarks and demos.

It answers ``POST /v1/chat/completions`` by echoing the last user message, with
OpenAI-shaped ``usage`` (whitespace word counts), ``GET /v1/models``, and streaming
(``"stream": true`` → server-sent events). It can add latency and inject failures: a
fraction of requests answered 429 (with ``Retry-After``) or 500, chosen by a hash of
the seed, the input and how many times that input was seen, so runs are repeatable
and a retried request can succeed.

A message may carry directives for one request: ``!status=400`` (answer that status,
with an error message that echoes the ``Authorization`` header as careless providers do),
``!sleep_ms=2000`` (extra latency), ``!retry_after=1`` (with ``!status=429``),
``!redirect=<url>`` (answer 307 to that URL), ``!break_stream`` (streamed requests only: send
the first half of the answer's chunks, then drop the connection without ending the stream).
With ``api_key`` set, a ``/v1/`` request without ``Authorization: Bearer <api_key>`` gets a
401 with an OpenAI-style error body (never echoing the credential), as at a real provider.

It records what it saw, for tests to assert on: requests in total, in flight (now and
peak), statuses, ``Authorization`` headers, hits and successes per distinct input, and
arrival times. ``GET /_stats`` returns them as JSON; ``POST /_reset`` clears them.

In a test::

    with OpenAITestServer(latency_ms=20, error_rate_429=0.1) as server:
        ...  # base_url = server.url  (http://127.0.0.1:<port>/v1)
        assert server.stats.max_in_flight <= 8

From a shell (prints ``LISTENING <url>`` once ready)::

    python -m llmlab_jupyter.testing.openai_server --port 8011 --latency-ms 100
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["OpenAITestServer", "ServerStats", "build_app", "main"]

_DIRECTIVE = re.compile(r"!(status|sleep_ms|retry_after|redirect)=(\S+)")


@dataclass
class ServerStats:
    """What the server saw since start or the last reset."""

    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    auth_headers: Counter[str] = field(default_factory=Counter)
    hits_by_input: Counter[str] = field(default_factory=Counter)
    ok_by_input: Counter[str] = field(default_factory=Counter)
    arrivals: list[float] = field(default_factory=list)
    record_inputs: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (inputs summarised as counts)."""
        return {
            "requests": self.requests,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "auth_headers": dict(self.auth_headers),
            "distinct_inputs": len(self.hits_by_input),
            "ok_total": sum(self.ok_by_input.values()),
        }


@dataclass
class ServerConfig:
    """Behaviour knobs (may be changed while the server runs)."""

    latency_ms: float = 0.0
    error_rate_429: float = 0.0
    error_rate_500: float = 0.0
    retry_after: float | None = 1.0
    seed: int = 0
    models: tuple[str, ...] = ("gpt-4o-mini", "test-model")
    api_key: str | None = None  # when set, /v1/ requests need "Authorization: Bearer <key>"


def _words(text: str) -> int:
    return len(text.split())


def _draw(seed: int, text: str, nth: int) -> float:
    digest = hashlib.blake2b(f"{seed}\x00{nth}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _error(status: int, kind: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": status}}


_BAD_KEY = _error(401, "invalid_request_error", "Incorrect API key provided.")
_BAD_KEY["error"]["code"] = "invalid_api_key"


def _key_ok(config: ServerConfig, request: web.Request) -> bool:
    if config.api_key is None:
        return True
    expected = f"Bearer {config.api_key}".encode()
    return hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected)


def build_app(config: ServerConfig, stats: ServerStats) -> web.Application:
    """The aiohttp application (routes described in the module docstring)."""
    lock = threading.Lock()
    ids = itertools.count(1)

    async def chat(request: web.Request) -> web.StreamResponse:
        with lock:
            stats.requests += 1
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            stats.arrivals.append(time.monotonic())
            stats.auth_headers[request.headers.get("Authorization", "")] += 1
        try:
            return await _chat(request)
        finally:
            with lock:
                stats.in_flight -= 1

    async def _chat(request: web.Request) -> web.StreamResponse:
        if not _key_ok(config, request):
            return _reply(401, _BAD_KEY)
        try:
            body = json.loads(await request.read())
            messages = body["messages"]
            user = [m for m in messages if m.get("role") == "user"] or messages
            text = str(user[-1].get("content") or "")
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            return _reply(400, _error(400, "invalid_request_error", "malformed chat request"))
        with lock:
            if stats.record_inputs:
                stats.hits_by_input[text] += 1
                nth = stats.hits_by_input[text]
            else:
                nth = stats.requests
        directives = dict(_DIRECTIVE.findall(text))
        delay = config.latency_ms + float(directives.get("sleep_ms", 0))
        if delay > 0:
            await asyncio.sleep(delay / 1000.0)
        if "redirect" in directives:
            return _reply(307, {}, {"Location": directives["redirect"]})
        if "status" in directives:
            status = int(directives["status"])
            headers = {}
            if "retry_after" in directives:
                headers["Retry-After"] = directives["retry_after"]
            # Like some real providers, echo (part of) the credential in the error text, so
            # tests can prove that clients keep it out of their own error messages.
            seen = request.headers.get("Authorization", "")
            message = f"injected {status}; credential seen: {seen}"
            return _reply(status, _error(status, "injected_error", message), headers)
        if config.error_rate_429 or config.error_rate_500:
            u = _draw(config.seed, text, nth)
            if u < config.error_rate_429:
                headers = {}
                if config.retry_after is not None:
                    headers["Retry-After"] = f"{config.retry_after:g}"
                return _reply(429, _error(429, "rate_limit_exceeded", "slow down"), headers)
            if u < config.error_rate_429 + config.error_rate_500:
                return _reply(500, _error(500, "server_error", "injected failure"))
        model = str(body.get("model", "test-model"))
        prompt_tokens = sum(_words(str(m.get("content") or "")) for m in messages)
        reply = text
        max_tokens = body.get("max_tokens")
        finish = "stop"
        if isinstance(max_tokens, int) and _words(reply) > max_tokens:
            reply, finish = " ".join(reply.split()[:max_tokens]), "length"
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": _words(reply),
            "total_tokens": prompt_tokens + _words(reply),
        }
        broken = bool(body.get("stream")) and "!break_stream" in text
        with lock:
            stats.statuses[200] += 1
            if stats.record_inputs and not broken:
                stats.ok_by_input[text] += 1
        cid = f"chatcmpl-{next(ids):012x}"
        if body.get("stream"):
            return await _stream(request, cid, model, reply, finish, usage, body, broken)
        return _reply(
            200,
            {
                "id": cid,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": finish,
                    }
                ],
                "usage": usage,
            },
            count=False,
        )

    def _reply(
        status: int, data: dict[str, Any], headers: dict[str, str] | None = None, count: bool = True
    ) -> web.Response:
        if count:
            with lock:
                stats.statuses[status] += 1
        return web.Response(
            status=status,
            body=json.dumps(data).encode(),
            headers=headers,
            content_type="application/json",
        )

    async def _stream(
        request: web.Request,
        cid: str,
        model: str,
        reply: str,
        finish: str,
        usage: dict[str, int],
        body: dict[str, Any],
        broken: bool = False,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time())}
        words = reply.split(" ")
        if broken:
            words = words[: max(1, len(words) // 2)]
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            delta: dict[str, str] = {"content": piece}
            if i == 0:
                delta["role"] = "assistant"
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            chunk = {**base, "model": model, "choices": [choice]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
        if broken:
            # Let the client read what was sent, then drop the connection mid-stream (no
            # terminating chunk): clients see a truncated body, as when a proxy dies.
            await asyncio.sleep(0.05)
            if request.transport is not None:
                request.transport.abort()
            return resp
        end = {"index": 0, "delta": {}, "finish_reason": finish}
        last = {**base, "model": model, "choices": [end]}
        await resp.write(f"data: {json.dumps(last)}\n\n".encode())
        if (body.get("stream_options") or {}).get("include_usage"):
            tail = {**base, "model": model, "choices": [], "usage": usage}
            await resp.write(f"data: {json.dumps(tail)}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def models(request: web.Request) -> web.Response:
        if not _key_ok(config, request):
            return _reply(401, _BAD_KEY)
        data = [{"id": m, "object": "model", "owned_by": "llmlab-test"} for m in config.models]
        return web.json_response({"object": "list", "data": data})

    async def get_stats(_: web.Request) -> web.Response:
        with lock:
            return web.json_response(stats.as_dict())

    async def reset(_: web.Request) -> web.Response:
        with lock:
            _reset(stats)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/_stats", get_stats)
    app.router.add_post("/_reset", reset)
    return app


def _reset(stats: ServerStats) -> None:
    keep = stats.record_inputs
    fresh = ServerStats(record_inputs=keep)
    for name in fresh.__dataclass_fields__:
        setattr(stats, name, getattr(fresh, name))


class OpenAITestServer:
    """The test server running on its own event loop in a background thread."""

    def __init__(
        self,
        *,
        latency_ms: float = 0.0,
        error_rate_429: float = 0.0,
        error_rate_500: float = 0.0,
        retry_after: float | None = 1.0,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        record_inputs: bool = True,
        api_key: str | None = None,
    ) -> None:
        self.config = ServerConfig(latency_ms, error_rate_429, error_rate_500, retry_after, seed)
        self.config.api_key = api_key
        self.stats = ServerStats(record_inputs=record_inputs)
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL of the OpenAI-compatible API (ends in ``/v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    def reset(self) -> None:
        """Forget what was seen so far."""
        _reset(self.stats)

    def start(self) -> OpenAITestServer:
        """Start serving; returns once the port is bound."""
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def serve() -> None:
            runner = web.AppRunner(
                build_app(self.config, self.stats), access_log=None, shutdown_timeout=0.5
            )
            await runner.setup()
            site = web.TCPSite(runner, self.host, self.port, backlog=1024)
            await site.start()
            server: Any = site._server
            self.port = server.sockets[0].getsockname()[1]
            self._runner = runner
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve())
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="openai-test-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("test server did not start")
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        loop, runner = self._loop, self._runner
        if loop is None:
            return
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        loop.close()
        self._loop = self._runner = self._thread = None

    def __enter__(self) -> OpenAITestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the server in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description="OpenAI-compatible test server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate-429", type=float, default=0.0)
    parser.add_argument("--error-rate-500", type=float, default=0.0)
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-record-inputs", action="store_true", help="save memory")
    parser.add_argument("--api-key-env", metavar="NAME", help="require this variable's key")
    args = parser.parse_args(argv)
    api_key = os.environ[args.api_key_env] if args.api_key_env else None
    server = OpenAITestServer(
        latency_ms=args.latency_ms,
        error_rate_429=args.error_rate_429,
        error_rate_500=args.error_rate_500,
        retry_after=args.retry_after,
        seed=args.seed,
        host=args.host,
        port=args.port,
        record_inputs=not args.no_record_inputs,
        api_key=api_key,
    ).start()
    # The one line a parent process waits for; this is a CLI entry point, not library code.
    print(f"LISTENING {server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
