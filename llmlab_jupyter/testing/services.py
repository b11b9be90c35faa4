"""Test helper: real services are required under ``CI=true`` and skipped elsewhere."""

from __future__ import annotations

import os

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(name: str, reason: str) -> None:
    """Skip the calling test (or, under ``CI=true``, fail it) because ``name`` is missing."""
    import pytest

    message = f"{name} is not available: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(message)
