"""A Hub token revoked through the Hub API is refused by the llmlab service within the
configured token cache time (LLMLAB_TOKEN_CACHE_S); a correctness bound, not a benchmark."""

from __future__ import annotations

import time

from hubharness.run import TOKEN_CACHE_S, HubRun

MARGIN_S = 5.0  # polling interval, the Hub's own answer time, a busy machine


def test_revoked_token_is_refused_within_the_cache_time(hub_run: HubRun) -> None:
    hub = hub_run.hub
    token, token_id = hub.new_token("bob", note="to be revoked")
    assert hub.llmlab("GET", "projects", token).status_code == 200
    assert hub.llmlab("GET", "projects", token).status_code == 200  # now cached
    hub.revoke("bob", token_id)
    revoked_at = time.monotonic()
    deadline = revoked_at + TOKEN_CACHE_S + MARGIN_S + 10
    status = 200
    while time.monotonic() < deadline:
        status = hub.llmlab("GET", "projects", token).status_code
        if status != 200:
            break
        time.sleep(0.25)
    took = time.monotonic() - revoked_at
    print(f"revoked token refused after {took:.2f} s (cache {TOKEN_CACHE_S} s)")
    assert status == 403, f"still answered {status} after {took:.1f} s"
    assert took <= TOKEN_CACHE_S + MARGIN_S
    # bob's other token still works: revoking one token is not logging bob out
    assert hub.llmlab("GET", "projects", hub_run.tokens["bob"]).status_code == 200


def test_no_token_and_a_made_up_token_are_refused(hub_run: HubRun) -> None:
    hub = hub_run.hub
    assert hub.llmlab("GET", "projects", None).status_code == 403
    assert hub.llmlab("GET", "projects", "not-a-real-token-0123456789").status_code == 403
