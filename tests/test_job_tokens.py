"""Job tokens: what a batch job of a team deployment calls the service with."""

from __future__ import annotations

import time

import pytest

from llmlab_jupyter import job_tokens
from llmlab_jupyter.exceptions import InvalidInput

SECRET = b"s" * 40


def test_a_minted_token_names_its_owner_job_and_attempt() -> None:
    before = time.time()
    token = job_tokens.mint(SECRET, user="alice", job_id=7, attempt=2, ttl_s=60)
    after = time.time()
    claims = job_tokens.verify(SECRET, token)
    assert claims is not None
    assert (claims.user, claims.job_id, claims.attempt) == ("alice", 7, 2)
    # the expiry is kept to the millisecond
    assert before + 60 - 0.001 <= claims.expires_at <= after + 60 + 0.001
    assert token.startswith(job_tokens.PREFIX)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),  # signature
        lambda t: t.replace(job_tokens.PREFIX, job_tokens.PREFIX + "e"),  # payload
        lambda t: t.split(".", 1)[1],  # no prefix
        lambda t: t + ".x",
        lambda t: "",
    ],
)
def test_a_changed_token_is_refused(change) -> None:
    token = job_tokens.mint(SECRET, user="alice", job_id=7, attempt=1, ttl_s=60)
    assert job_tokens.verify(SECRET, change(token)) is None


def test_a_token_of_another_secret_or_past_its_time_is_refused() -> None:
    token = job_tokens.mint(SECRET, user="alice", job_id=7, attempt=1, ttl_s=60)
    assert job_tokens.verify(b"t" * 40, token) is None
    assert job_tokens.verify(SECRET, token, now=time.time() + 61) is None


def test_the_owner_cannot_be_changed_without_the_secret() -> None:
    token = job_tokens.mint(SECRET, user="bob", job_id=7, attempt=1, ttl_s=60)
    payload, signature = token[len(job_tokens.PREFIX) :].split(".")
    forged_body = job_tokens._b64(job_tokens._unb64(payload).replace(b'"bob"', b'"alice"'))
    assert job_tokens.verify(SECRET, f"{job_tokens.PREFIX}{forged_body}.{signature}") is None


def test_a_missing_or_short_secret_names_the_variable_not_the_value(monkeypatch) -> None:
    monkeypatch.delenv(job_tokens.SECRET_ENV, raising=False)
    with pytest.raises(InvalidInput) as err:
        job_tokens.secret_from_env()
    assert err.value.field == job_tokens.SECRET_ENV
    monkeypatch.setenv(job_tokens.SECRET_ENV, "too-short-canary")
    with pytest.raises(InvalidInput) as err:
        job_tokens.secret_from_env()
    assert "too-short-canary" not in str(err.value)


def test_a_service_makes_itself_a_secret_its_workers_inherit(monkeypatch) -> None:
    monkeypatch.delenv(job_tokens.SECRET_ENV, raising=False)
    made = job_tokens.secret_from_env(create=True)
    assert len(made) >= 32
    assert job_tokens.secret_from_env() == made  # set in the environment children inherit
