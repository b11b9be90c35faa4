"""Schedules: cron + time zone, exactly one job per tick with two schedulers racing,
persistence across restarts, alert rules and webhook URL validation; the CLI."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from click.testing import CliRunner

from llmlab_jupyter.exceptions import InvalidInput
from llmlab_jupyter.leases import new_lease_token
from llmlab_jupyter.services import Caller, Services
from llmlab_jupyter.services.schedules import next_tick, validate_webhook_url

ALICE = Caller("alice")
UTC = timezone.utc


def test_next_tick_honours_the_time_zone() -> None:
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert next_tick("0 6 * * *", "Europe/Paris", winter) == datetime(2026, 1, 16, 5, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    assert next_tick("0 6 * * *", "Europe/Paris", summer) == datetime(2026, 7, 16, 4, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        next_tick("0 6 * * *", "Mars/Olympus", winter)


def test_two_schedulers_make_exactly_one_job_per_tick(job_services: Any, job_config: Any) -> None:
    sched = job_services.schedules.add(
        ALICE,
        "default",
        "every-minute",
        cron="* * * * *",
        template="builtin-sleep",
        parameters={"seconds": 0},
    )
    other = Services.from_config(job_config)  # a second server/worker process
    try:
        tick = sched.next_run_at
        for n in range(1, 6):
            now = tick + timedelta(seconds=1)
            barrier = threading.Barrier(4)

            def fire(svc: Services, now: datetime = now, barrier: Any = barrier) -> None:
                barrier.wait()
                svc.schedules.tick(svc.executor, now=now)

            threads = [
                threading.Thread(target=fire, args=(s,))
                for s in (job_services, other, job_services, other)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            jobs = job_services.jobs.list(ALICE, "default", schedule="every-minute")
            assert len(jobs) == n
            assert len({j.scheduled_for for j in jobs}) == n
            tick += timedelta(minutes=1)
        # missed ticks (server down for 10 minutes) collapse into one run
        job_services.schedules.tick(job_services.executor, now=tick + timedelta(minutes=10))
        assert len(job_services.jobs.list(ALICE, "default", schedule="every-minute")) == 6
    finally:
        other.close()
    # the schedule survives a restart: a new process sees it and its next tick
    again = Services.from_config(job_config)
    try:
        (s,) = again.schedules.list(ALICE, "default")
        assert s.name == "every-minute" and s.next_run_at > tick
    finally:
        again.close()


def test_pause_resume_remove(job_services: Any) -> None:
    svc = job_services.schedules
    svc.add(ALICE, "default", "nightly", cron="0 3 * * *", template="builtin-sleep")
    assert svc.pause(ALICE, "default", "nightly").paused
    far = datetime.now(UTC) + timedelta(days=3)
    assert job_services.schedules.tick(job_services.executor, now=far) == []
    assert not svc.resume(ALICE, "default", "nightly").paused
    svc.remove(ALICE, "default", "nightly")
    assert svc.list(ALICE, "default") == []
    for bad in ({"cron": "61 * * * *"}, {"cron": "@daily"}, {"timezone": "Nowhere/City"}):
        kwargs = {"cron": "0 3 * * *", "template": "builtin-sleep", **bad}
        with pytest.raises(InvalidInput):
            svc.add(ALICE, "default", "bad", **kwargs)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/hook",
        "http://0.0.0.0/hook",
        "file:///etc/passwd",
        "http://user:pw@example.com/hook",
    ],
)
def test_webhook_urls_to_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        validate_webhook_url(url, allow_private=False)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _finish(svc: Any, job_id: int, score: float) -> None:
    claim = svc.store.claim_job(new_lease_token(), lease_s=30, job_id=job_id)
    assert svc.store.finish_job(
        job_id, claim.lease_token, "succeeded", result={"metrics": {"exact_match": score}}
    )


def test_alert_rule_raises_alerts_and_calls_the_webhook(job_services: Any) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    svc = job_services.schedules
    rule = {"metric": "exact_match", "max_drop": 0.05, "webhook_url": url}
    with pytest.raises(InvalidInput, match="non-public"):
        svc.add(
            ALICE, "default", "nightly", cron="0 3 * * *", template="builtin-sleep", alert_rule=rule
        )
    job_services.config.webhook_allow_private = True
    sched = svc.add(
        ALICE, "default", "nightly", cron="0 3 * * *", template="builtin-sleep", alert_rule=rule
    )
    scores = [0.90, 0.88, 0.70]  # second: within max_drop; third: a regression
    for i, score in enumerate(scores):
        now = sched.next_run_at + timedelta(days=i, seconds=1)
        (job,) = svc.tick(job_services.executor, now=now)
        _finish(job_services, job.id, score)
        alert = svc.after_job(job.id)
        assert (alert is not None) == (i == 2)
    (alert,) = svc.alerts(ALICE, "default")
    assert (alert.value, alert.baseline, alert.schedule) == (0.70, 0.88, "nightly")
    assert alert.webhook_status == "sent: HTTP 204"
    assert _Hook.received[-1]["alert"]["message"] == alert.message
    assert svc.after_job(job.id).id == alert.id  # evaluated twice: still one alert
    assert len(svc.alerts(ALICE, "default")) == 1
    server.shutdown()

    pinned = svc.add(
        ALICE,
        "default",
        "pinned",
        cron="0 4 * * *",
        template="builtin-sleep",
        alert_rule={"metric": "exact_match", "max_drop": 0.0, "baseline": 0.95},
    )
    (job,) = svc.tick(job_services.executor, now=pinned.next_run_at + timedelta(seconds=1))
    _finish(job_services, job.id, 0.9)
    assert svc.after_job(job.id).baseline == 0.95


def test_cli_jobs_and_schedules(job_config: Any, job_services: Any, tmp_path: Any) -> None:
    from llmlab_jupyter.cli import main

    base = [
        "--database-url",
        job_config.database_url,
        "--data-dir",
        job_config.data_dir,
        "--user",
        "alice",
    ]
    env = {"LLMLAB_ARTIFACTS_URL": job_config.artifacts_url}
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(main, [*base, *args], env=env, catch_exceptions=False)
        return result

    out = run("jobs", "submit", "builtin-sleep", "-P", "seconds=0.5", "--idempotency-key", "k1")
    assert out.exit_code == 0, out.output
    job_id = int(out.output.split()[1])
    assert run(
        "jobs", "submit", "builtin-sleep", "-P", "seconds=0.5", "--idempotency-key", "k1"
    ).output.split()[1] == str(job_id)
    assert "builtin-sleep" in run("jobs", "list").output
    shown = json.loads(run("jobs", "show", str(job_id)).output)
    assert shown["parameters"] == {"seconds": 0.5} and shown["state"] == "queued"
    assert run("jobs", "cancel", str(job_id)).output.strip() == f"job {job_id} cancelled"
    bad = runner.invoke(main, [*base, "jobs", "cancel", "999"], env=env)
    assert bad.exit_code == 1 and "not found" in bad.output
    out = run(
        "schedules",
        "add",
        "nightly",
        "builtin-sleep",
        "--cron",
        "0 3 * * *",
        "--tz",
        "Europe/Paris",
        "--alert",
        "exact_match",
        "--max-drop",
        "0.1",
    )
    assert out.exit_code == 0 and "next run" in out.output
    assert "Europe/Paris" in run("schedules", "list").output
    assert run("schedules", "pause", "nightly").output.strip() == "schedule nightly paused"
    assert json.loads(run("schedules", "list", "--json").output)[0]["paused"] is True
    assert run("schedules", "remove", "nightly").exit_code == 0


# -- webhooks: resolve once, check every address, connect to a checked one -----------------
class _Recorder(BaseHTTPRequestHandler):
    """Records each POST (Host header, path, body) on its server; answers 204, or a
    redirect when the server has ``redirect_to``."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server: Any = self.server
        server.seen.append({"host": self.headers["Host"], "path": self.path, "body": body})
        if server.redirect_to:
            self.send_response(307)
            self.send_header("Location", server.redirect_to)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class _Server(HTTPServer):
    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Recorder)
        self.seen: list[dict[str, Any]] = []
        self.redirect_to = ""
        self.sni: list[str | None] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # failed TLS handshakes are expected in the certificate test


@pytest.fixture
def hook_servers() -> Any:
    """Start HTTP(S) servers on loopback addresses; stopped after the test."""
    started: list[_Server] = []

    def start(host: str = "127.0.0.1", port: int = 0, tls: Any = None) -> _Server:
        server = _Server((host, port))
        if tls is not None:  # an ssl.SSLContext: serve https, recording the SNI names
            tls.sni_callback = lambda sock, name, ctx: server.sni.append(name)
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


class _Resolver:
    """A resolver that gives ``answers[i]`` on call ``i`` (the last one after that)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


def test_a_name_resolving_to_loopback_is_refused_unless_private_is_allowed(
    hook_servers: Any,
) -> None:
    from llmlab_jupyter.services.webhooks import post_webhook

    server = hook_servers()
    url = f"http://hooks.example.test:{server.server_port}/alert?team=ml"
    status = post_webhook(url, b"{}", allow_private=False, resolver=_Resolver(["127.0.0.1"]))
    assert status.startswith("refused:") and "non-public address (127.0.0.1)" in status
    mixed = _Resolver(["93.184.216.34", "127.0.0.1"])  # every answer is checked
    assert post_webhook(url, b"{}", allow_private=False, resolver=mixed).startswith("refused:")
    assert server.seen == []  # refused before any connection

    status = post_webhook(url, b'{"a": 1}', allow_private=True, resolver=_Resolver(["127.0.0.1"]))
    assert status == "sent: HTTP 204"
    (seen,) = server.seen
    assert seen == {
        "host": f"hooks.example.test:{server.server_port}",
        "path": "/alert?team=ml",
        "body": b'{"a": 1}',
    }


def test_the_send_connects_to_the_address_that_was_checked(hook_servers: Any) -> None:
    """A resolver that answers differently on a second call cannot move the send: the host
    is resolved once and the connection goes to that answer."""
    from llmlab_jupyter.services.webhooks import post_webhook

    checked = hook_servers("127.0.0.1")
    try:
        rebound = hook_servers("127.0.0.2", checked.server_port)
    except OSError as err:  # pragma: no cover - hosts without the whole 127/8 on lo
        pytest.skip(f"cannot listen on 127.0.0.2 ({err})")
    flip = _Resolver(["127.0.0.1"], ["127.0.0.2"])
    url = f"http://hooks.example.test:{checked.server_port}/hook"
    assert post_webhook(url, b"{}", allow_private=True, resolver=flip) == "sent: HTTP 204"
    assert flip.calls == [("hooks.example.test", checked.server_port)]
    assert len(checked.seen) == 1 and rebound.seen == []


def test_webhook_redirects_are_not_followed(hook_servers: Any) -> None:
    from llmlab_jupyter.services.webhooks import post_webhook

    target = hook_servers()
    first = hook_servers()
    first.redirect_to = f"http://127.0.0.1:{target.server_port}/elsewhere"
    url = f"http://127.0.0.1:{first.server_port}/hook"
    status = post_webhook(url, b"{}", allow_private=True)
    assert status == "failed: HTTP 307 (redirect not followed)"
    assert len(first.seen) == 1 and target.seen == []


def _certificate(tmp_path: Any, name: str) -> tuple[str, str]:
    """A self-signed certificate for ``name`` and its key, as PEM files."""
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_https_webhooks_use_sni_and_verify_the_certificate_of_the_url_host(
    hook_servers: Any, tmp_path: Any
) -> None:
    import ssl

    from llmlab_jupyter.services.webhooks import post_webhook

    cert, key = _certificate(tmp_path, "hooks.example.test")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = hook_servers(tls=tls)
    trust = ssl.create_default_context(cafile=cert)
    loopback = _Resolver(["127.0.0.1"])

    url = f"https://hooks.example.test:{server.server_port}/hook"
    status = post_webhook(url, b"{}", allow_private=True, resolver=loopback, context=trust)
    assert status == "sent: HTTP 204"
    assert server.sni == ["hooks.example.test"]
    assert server.seen[0]["host"] == f"hooks.example.test:{server.server_port}"

    other = f"https://other.example.test:{server.server_port}/hook"
    status = post_webhook(other, b"{}", allow_private=True, resolver=loopback, context=trust)
    assert status.startswith("failed:") and "certificate" in status.lower()
    assert len(server.seen) == 1
