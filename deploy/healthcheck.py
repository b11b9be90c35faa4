#!/usr/bin/env python3
"""Container health check: is the HTTP server at URL answering? (Standard library only.)

    llmlab-healthcheck [--any-status] URL

Exit 0 when URL answers 2xx/3xx, 1 otherwise (no answer within 4 s, or another status).
With ``--any-status`` every answer below 500 counts as healthy: the llmlab service
authenticates every route, so an anonymous probe gets 403, which still proves the service
is up and routing; a 5xx (or no answer) does not. The images install it as
``llmlab-healthcheck``; the Dockerfile's HEALTHCHECK lines and the Kubernetes probes call it.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

TIMEOUT_S = 4.0


def healthy(url: str, *, any_status: bool = False) -> bool:
    """Whether ``url`` answers as a healthy server does (see the module docstring)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url: expected an http(s) URL, got {url!r}")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310
            return response.status < 400
    except urllib.error.HTTPError as err:
        return any_status and err.code < 500
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    """The command line: returns the process exit status."""
    any_status = "--any-status" in argv
    urls = [arg for arg in argv if arg != "--any-status"]
    if len(urls) != 1:
        print("usage: llmlab-healthcheck [--any-status] URL", file=sys.stderr)
        return 2
    try:
        ok = healthy(urls[0], any_status=any_status)
    except ValueError as err:
        print(f"llmlab-healthcheck: {err}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
