"""The team path against one server: p95 through the Hub proxy → user server → service.

Issue 12, point 9: the p95 latency of the prompt list and get routes and of an experiment's
summary with 50 concurrent clients, through a real JupyterHub (the proxy, alice's user
server in remote mode forwarding to ``llmlab serve``), against the same routes on a single
``jupyter server`` with the extension. Goal: hub p95 <= 2 x single-server p95.

One run: create a fresh PostgreSQL database ``llmlab_bench_hub`` on the machine's server
(``--admin-url``; or ``--database-url sqlite:///...``), seed it with bench_api's seeding
(``--prompts`` 1,000 prompts and one finished experiment of ``--results`` 100,000 results in
project ``default``, alice added as a viewer through the services), start a single server
on it (bench_api's ``live_server``), then a real Hub from ``deploy/jupyterhub_config.py``
(the Hub test harness's ``start_hub``, read-only) whose managed ``llmlab serve`` uses the
same database, spawn alice's server and take a Hub API token of hers. Each route is then
timed on each path in turn (bench_api's closed-loop ``run_route``: ``--clients`` clients,
1 s of warm-up, ``--seconds`` of measurement), route by route so that a change in the
machine's load hits both columns alike:

* ``single``: ``<server>/llmlab/api/...`` with the server's token;
* ``hub``: ``<hub>/user/alice/llmlab/api/...`` (proxy → user server → service), alice's token;
* ``service`` (informative): ``<hub>/services/llmlab/llmlab/api/...`` (proxy → service).

jupyter-server's own ``api/status`` on the single server and on alice's server (through the
proxy) is timed first: the floor of each path before any llmlab code. The table has p50/p95
and req/s of each path and the hub/single ratio of p95s, then one line per route
``hub/single p95 ratio: X.XX (goal <= 2.00)`` (``OVER GOAL`` when above; the exit code is 0
all the same: it is a measurement). The detail rows give the CPU ms per request of each
process (single server; or proxy, user server, service, Hub) and of this client. Every
process, the database and the temporary folder are removed at the end, also on Ctrl-C.

Needs the ``hub`` extra and ``make hub-deps`` (configurable-http-proxy); without them it
prints why and exits 0. Run it from the checkout (the machine has 2 cores: trust ratios more
than absolute times, and run it when nothing else is busy):

    PYTHONPATH=$PWD .venv/bin/python bench/bench_hub.py [--seconds 10] [--clients 50]
        [--prompts 1000] [--results 100000] [--variants 4] [--token-cache-s 60]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--database-url sqlite:///tmp/bench-hub.db] [--keep-logs]
        [--profile DIR] [--user-config FILE] [--no-direct] [--no-floors]

``--profile DIR`` samples alice's server and the service with py-spy (the dev extra) during
each hub run and prints where their samples are (forwarding, the HTTP client, new TCP
connections, name lookups, authentication, the llmlab handler, log lines); py-spy takes CPU
too, so latencies in such a run are not the figures to quote. ``--user-config FILE`` puts a
``jupyter_server_config.py`` in alice's ``~/.jupyter`` before her server starts, to try a
setting of the hub path without changing code (e.g. ``AsyncHTTPClient.configure(
"tornado.curl_httpclient.CurlAsyncHTTPClient")`` for a forwarding client that keeps its
connections to the service alive, or ``c.ServerApp.log_level = "WARN"``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "bench", ROOT / "tests" / "server", ROOT / "tests" / "hub"):
    sys.path.insert(0, str(_path))

import bench_api  # noqa: E402

DATABASE = "llmlab_bench_hub"
PROJECT = "default"  # where bench_api seeds; alice is made a viewer of it
USER = "alice"
GOAL = 2.0
#: a process of the Hub's family, by a word of its command line → the name in the CPU columns
ROLES = (
    ("configurable-http-proxy", "proxy"),
    ("jupyterhub-singleuser", "user server"),
    ("llmlab serve", "service"),
    ("jupyter_server", "server"),
    ("jupyterhub", "hub"),
)


# -- the database -----------------------------------------------------------------------------
def create_database(admin_url: str) -> str:
    """A new, empty ``llmlab_bench_hub`` on the server of ``admin_url``; its SQLAlchemy URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    with psycopg.connect(_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    url = admin.set(drivername="postgresql+psycopg", database=DATABASE)
    return url.render_as_string(hide_password=False)


def drop_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def _conninfo(admin_url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(admin_url)
    info = f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'}"
    info += f" dbname={u.database or 'postgres'} connect_timeout=5"
    return info + (f" password={u.password}" if u.password else "")


def seed_all(database_url: str, data_dir: Path, args: argparse.Namespace) -> None:
    """bench_api's prompts and big experiment in ``default``, and alice a viewer of it."""
    from llmlab_jupyter.config import local_user_name
    from llmlab_jupyter.services import Caller

    took = bench_api.seed(database_url, data_dir, args.prompts)
    print(f"seeded {args.prompts:,} prompts in {took:.1f} s")
    if args.results:
        took = bench_api.seed_results(database_url, data_dir, args.results, args.variants)
        print(f"seeded {args.results:,} results in {args.variants} variants in {took:.1f} s")
    services = bench_api.open_services(database_url, data_dir)
    services.projects.set_member(Caller(local_user_name()), PROJECT, USER, "viewer")
    services.close()


# -- CPU of the processes on each path ----------------------------------------------------------
def cpu_probe(*roots: int) -> Callable[[], dict[str, float]]:
    """CPU seconds so far of each named process under ``roots`` (pids), and of this client."""
    import psutil

    def name_of(proc: psutil.Process) -> str:
        line = " ".join(proc.cmdline())
        for word, name in ROLES:
            if word in line:
                return name
        return "other"

    def probe() -> dict[str, float]:
        out: dict[str, float] = {}
        me = psutil.Process()
        family = [psutil.Process(pid) for pid in roots]
        for root in list(family):
            family += root.children(recursive=True)
        for proc in family:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                name = name_of(proc)
                out[name] = out.get(name, 0.0) + times.user + times.system
        times = me.cpu_times()
        out["client"] = times.user + times.system
        return out

    return probe


# -- py-spy profiles of the hub path (--profile DIR) ---------------------------------------------
def family_pids(root: int) -> dict[str, int]:
    """The pid of each named process under ``root`` (the Hub): proxy, user server, service."""
    import psutil

    out = {}
    for proc in psutil.Process(root).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            line = " ".join(proc.cmdline())
            for word, name in ROLES:
                if word in line:
                    out.setdefault(name, proc.pid)
                    break
    return out


def start_profiles(out: Path, slug: str, pids: dict[str, int], seconds: float) -> list:
    """``py-spy record`` (raw collapsed stacks, no idle samples) of each of ``pids``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out.mkdir(parents=True, exist_ok=True)
    started = []
    for role, pid in pids.items():
        path = out / f"{slug}-{role.replace(' ', '-')}.txt"
        command = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds + 2))]
        command += ["--rate", "200", "--format", "raw", "--nolineno", "--nonblocking"]
        log = (out / f"{path.stem}.log").open("wb")
        proc = subprocess.Popen([*command, "-o", str(path)], stdout=log, stderr=log)
        started.append((role, path, proc))
    time.sleep(0.5)  # py-spy attaches
    return started


#: parts of a request, by a frame on the stack: (label, substrings of frames)
PARTS = (
    ("forwarding (llmlab hub/forward.py)", ("ForwardHandler.forward",)),
    ("  tornado HTTP client to the service", ("simple_httpclient", "curl_httpclient")),
    ("  new TCP connection (connect/close)", ("TCPClient.connect", "IOStream.connect")),
    ("  name lookup in threads", ("getaddrinfo",)),
    ("authentication (get_user, Hub tokens)", ("get_user", "HubAuth", "HubOAuth")),
    ("llmlab handler (@operation)", ("operation.<locals>",)),
    ("  catalogue/summary one-row check", ("pg_probe",)),
    ("request log line", ("log_request",)),
    ("accepting connections", ("accept_handler", "_handle_connection")),
    ("reading requests (tornado server)", ("HTTP1Connection._read_message",)),
)


def profile_summary(path: Path, top: int = 8) -> str:
    """Where the samples are: the parts of a request (with what they call) and the functions
    with most samples of their own, in percent of all non-idle samples."""
    own: dict[str, int] = {}
    parts = dict.fromkeys((label for label, _ in PARTS), 0)
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        leaf = stack.rsplit(";", 1)[-1]
        own[leaf] = own.get(leaf, 0) + n
        for label, words in PARTS:
            if any(w in stack for w in words):
                parts[label] += n
    if not total:
        return f"    (no samples in {path.name})"
    out = [f"    {total} samples; parts of a request (with callees):"]
    out += [f"    {100 * n / total:5.1f}%  {label}" for label, n in parts.items() if n]
    out.append("    own time:")
    ranked = sorted(own.items(), key=lambda kv: -kv[1])[:top]
    out += [f"    {100 * n / total:5.1f}%  {f[:100]}" for f, n in ranked]
    return "\n".join(out)


# -- the routes and the runs -------------------------------------------------------------------
def routes(args: argparse.Namespace) -> list[tuple[str, Callable[[], tuple[str, dict | None]]]]:
    p = f"projects/{PROJECT}"
    n = args.prompts

    def list_page() -> tuple[str, dict | None]:
        return f"{p}/prompts", {"limit": str(args.page)}

    def get_prompt() -> tuple[str, dict | None]:
        return f"{p}/prompts/prompt-{random.randrange(n):05d}", None

    def summary() -> tuple[str, dict | None]:
        return f"{p}/experiments/{bench_api.BIG_EXPERIMENT}/summary", None

    found = [(f"GET prompts?limit={args.page}", list_page), ("GET prompts/{name}", get_prompt)]
    if args.results:
        found.append(("GET experiments/{name}/summary", summary))
    return found


def preflight(base: str, token: str, make: Callable[[], tuple[str, dict | None]]) -> None:
    """One GET, which must answer 200 (a fast 403 would make a meaningless figure)."""
    import httpx

    path, params = make()
    reply = httpx.get(
        base + path,
        params=params,
        headers={"Authorization": f"token {token}"},
        timeout=120,
        trust_env=False,
    )
    if reply.status_code != 200:
        raise RuntimeError(f"GET {base}{path}: HTTP {reply.status_code} {reply.text[:300]}")


def measure(base: str, label: str, make, token: str, cpu, args: argparse.Namespace) -> dict:
    preflight(base, token, make)
    run = bench_api.run_route(base, label, make, args.clients, args.seconds, token=token, cpu=cpu)
    result = asyncio.run(run)
    print(_detail(result), flush=True)
    return result


def _detail(r: dict) -> str:
    by = ", ".join(
        f"{k} {v:.2f}"
        for k, v in sorted(r["cpu_ms_by"].items(), key=lambda kv: -kv[1])
        if v >= 0.005
    )
    return (
        f"  {r['route']:58} n={r['requests']:>6} err={r['errors']:<3} {r['rps']:>6.1f} req/s "
        f"p50 {r['p50']:>6.1f} p95 {r['p95']:>6.1f} p99 {r['p99']:>6.1f} ms | CPU ms/req: {by}"
    )


def report(table: list[tuple[str, dict, dict, dict | None]]) -> None:
    print()
    print(
        f"{'route':32} {'single p50':>10} {'p95':>6} {'req/s':>6} | {'hub p50':>7} {'p95':>6} "
        f"{'req/s':>6} | {'p95 ratio':>9} | {'service p50':>11} {'p95':>6} {'req/s':>6}"
    )
    for label, single, hub, direct in table:
        ratio = hub["p95"] / single["p95"]
        svc = (
            f"{direct['p50']:>11.1f} {direct['p95']:>6.1f} {direct['rps']:>6.0f}"
            if direct
            else f"{'-':>11} {'-':>6} {'-':>6}"
        )
        print(
            f"{label:32} {single['p50']:>10.1f} {single['p95']:>6.1f} {single['rps']:>6.0f} | "
            f"{hub['p50']:>7.1f} {hub['p95']:>6.1f} {hub['rps']:>6.0f} | {ratio:>8.2f}x | {svc}"
        )
    print("(milliseconds; hub = proxy → user server → service, service = proxy → service)")
    for label, single, hub, _ in table:
        ratio = hub["p95"] / single["p95"]
        verdict = "" if ratio <= GOAL else "   OVER GOAL"
        print(f"{label}: hub/single p95 ratio: {ratio:.2f} (goal <= {GOAL:.2f}){verdict}")


# -- the run ------------------------------------------------------------------------------------
def missing_prerequisite() -> str:
    from hubharness.hub import PROXY_BIN

    if importlib.util.find_spec("jupyterhub") is None:
        return "jupyterhub is not installed (pip install 'llmlab-jupyter[hub]')"
    if not (PROXY_BIN / "configurable-http-proxy").exists():
        return "configurable-http-proxy is missing (run `make hub-deps`)"
    return ""


def _stop_on_sigterm() -> None:
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--prompts", type=int, default=1_000)
    parser.add_argument("--results", type=int, default=100_000, help="0: no summary route")
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--page", type=int, default=50, help="page size of the list route")
    parser.add_argument(
        "--admin-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help=f"PostgreSQL server on which the bench creates and drops {DATABASE}",
    )
    parser.add_argument("--database-url", default="", help="e.g. sqlite:///... instead")
    parser.add_argument(
        "--token-cache-s", type=int, default=60, help="the service's LLMLAB_TOKEN_CACHE_S"
    )
    parser.add_argument("--no-direct", action="store_true", help="skip the proxy → service runs")
    parser.add_argument("--no-floors", action="store_true", help="skip the api/status runs")
    parser.add_argument(
        "--profile",
        default="",
        metavar="DIR",
        help="py-spy the user server and the service during the hub runs (latency suffers)",
    )
    parser.add_argument(
        "--user-config",
        default="",
        metavar="FILE",
        help=f"a jupyter_server_config.py for {USER}'s server (to try a setting)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the folder with the logs")
    args = parser.parse_args()
    why = missing_prerequisite()
    if why:
        print(f"bench_hub skipped: {why}")
        return 0
    from hubharness.hub import start_hub
    from live import live_server

    _stop_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="llmlab-bench-hub-"))
    created = not args.database_url
    hub = None
    try:
        database_url = args.database_url or create_database(args.admin_url)
        print(f"database: {database_url.split('://')[0]} ({DATABASE if created else 'given'})")
        seed_all(database_url, work / "data", args)
        with live_server(work / "single", database_url, token=bench_api.TOKEN) as single_url:
            secrets_env = {
                "LLMLAB_DATABASE_URL": database_url,
                "LLMLAB_DATA_DIR": str(work / "data"),
                "LLMLAB_TOKEN_SECRET": secrets.token_hex(32),
            }
            hub = start_hub(work / "hub", work / "logs", secrets_env, args.token_cache_s)
            if args.user_config:  # e.g. to try a setting on the hub path
                target = hub.base / "home" / USER / ".jupyter" / "jupyter_server_config.py"
                shutil.copy(args.user_config, target)
                print(f"{USER}'s server config: {args.user_config}")
            started = time.monotonic()
            hub.spawn(USER)
            print(f"{USER}'s server up in {time.monotonic() - started:.1f} s")
            token, _ = hub.new_token(USER, note="bench_hub")
            single_pid = bench_api_server_pid()
            cpu_single = cpu_probe(single_pid)
            cpu_hub = cpu_probe(hub.proc.pid)
            paths = {
                "single": (single_url + "llmlab/api/", bench_api.TOKEN, cpu_single),
                "hub": (f"{hub.url}user/{USER}/llmlab/api/", token, cpu_hub),
                "service": (f"{hub.service_url}llmlab/api/", token, cpu_hub),
            }
            print(
                f"{args.clients} closed-loop clients, 1 s warm-up + {args.seconds:.0f} s per run "
                f"(service token cache {args.token_cache_s} s)"
            )
            if not args.no_floors:
                floors = (
                    (single_url, "single: GET api/status (floor)", bench_api.TOKEN, cpu_single),
                    (
                        f"{hub.url}user/{USER}/",
                        "hub: GET user/alice/api/status (floor)",
                        token,
                        cpu_hub,
                    ),
                )
                for base, label, tok, cpu in floors:
                    measure(base, label, lambda: ("api/status", None), tok, cpu, args)
            table = []
            for label, make in routes(args):
                got = {}
                for name in ("single", "hub", "service"):
                    if name == "service" and args.no_direct:
                        continue
                    base, tok, cpu = paths[name]
                    spies = []
                    if args.profile and name == "hub":
                        slug = "".join(c if c.isalnum() else "-" for c in label).strip("-")
                        pids = family_pids(hub.proc.pid)
                        pids.pop("proxy", None), pids.pop("hub", None)  # node; idle
                        spies = start_profiles(Path(args.profile), slug, pids, args.seconds)
                    got[name] = measure(base, f"{name}: {label}", make, tok, cpu, args)
                    for role, path, spy in spies:
                        spy.wait(timeout=60)
                        print(f"  py-spy of the {role} ({path}):")
                        print(profile_summary(path))
                table.append((label, got["single"], got["hub"], got.get("service")))
            report(table)
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
    finally:
        if hub is not None:
            hub.proc.stop()
            hub.client.close()
        if created:
            with contextlib.suppress(Exception):
                drop_database(args.admin_url)
        if args.keep_logs:
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def bench_api_server_pid() -> int:
    """The pid of the ``jupyter server`` child that ``live_server`` started."""
    import psutil

    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if "jupyter_server" in " ".join(child.cmdline()):
                return int(child.pid)
    raise RuntimeError("the single server's process was not found")


if __name__ == "__main__":
    sys.exit(main())
