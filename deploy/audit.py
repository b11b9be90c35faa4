#!/usr/bin/env python3
"""``make audit``: known vulnerabilities in what the images and the extension ship.

1. Python: ``pip-audit --require-hashes --disable-pip -r deploy/requirements.lock`` (PyPI's
   vulnerability data for every pinned package; the lock is hashed, nothing is installed).
2. The JupyterLab extension: ``jlpm npm audit --environment production --recursive`` in
   labextension/ (yarn berry's audit of the production dependencies of yarn.lock; this
   project's lock is a yarn lock, so ``npm audit`` has no package-lock.json to read).
3. The Hub's proxy: ``npm audit --omit=dev`` in deploy/proxy/ (a package-lock.json), when present.

A known vulnerability fails the audit. An audit service that does not answer (a registry
mirror without the advisory endpoints, no network) is reported as such, with the number of
packages it could not check, and fails only under ``AUDIT_STRICT=1`` — so a green audit on a
machine without that data is never mistaken for a clean bill: read the summary.

To accept a vulnerability that has no fix (never a high or critical one), add its id to
``PIP_AUDIT_IGNORE`` below with a comment saying why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: Vulnerability ids accepted on purpose: {"GHSA-…": "why, and until when"}.
PIP_AUDIT_IGNORE: dict[str, str] = {}


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def audit_python() -> tuple[list[str], str | None]:
    """(vulnerabilities found, why some packages could not be audited or None)."""
    argv = [str(BIN / "pip-audit"), "--require-hashes", "--disable-pip", "--format=json"]
    argv += ["--progress-spinner=off", "-r", "deploy/requirements.lock"]
    for vuln_id in PIP_AUDIT_IGNORE:
        argv += ["--ignore-vuln", vuln_id]
    result = _run(argv, ROOT)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [f"pip-audit failed: {result.stderr.strip()[-500:]}"], None
    found, skipped = [], []
    for dep in report["dependencies"]:
        if dep.get("skip_reason"):
            skipped.append(dep["skip_reason"])
        for vuln in dep.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            found.append(f"{dep['name']}=={dep['version']}: {vuln['id']} (fixed in {fixes})")
    total = len(report["dependencies"])
    note = f"{len(skipped)} of {total} packages not audited ({skipped[0]})" if skipped else None
    print(f"python: {total} locked packages, {len(found)} known vulnerabilities")
    return found, note


def audit_labextension() -> tuple[list[str], str | None]:
    argv = ["jlpm", "npm", "audit", "--environment", "production", "--recursive", "--json"]
    result = _run(argv, ROOT / "labextension")
    output = result.stdout + result.stderr
    if result.returncode == 0:
        print("labextension: no known vulnerabilities in the production dependencies")
        return [], None
    if "YN0035" in output or "YN0001" in output:  # the registry did not answer the audit
        reason = next((ln for ln in output.splitlines() if "Response Code" in ln), output[:200])
        return [], f"labextension not audited: {reason.strip()}"
    advisories = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    print(f"labextension: {len(advisories)} advisories")
    return advisories or [output.strip()[-500:]], None


def audit_proxy() -> tuple[list[str], str | None]:
    folder = ROOT / "deploy" / "proxy"
    if not (folder / "package-lock.json").exists():
        return [], "deploy/proxy/package-lock.json not present: proxy not audited"
    result = _run(["npm", "audit", "--omit=dev", "--json"], folder)
    report = json.loads(result.stdout or "{}")
    if "vulnerabilities" not in report:
        return [], f"proxy not audited: {report.get('message', result.stderr.strip()[:200])}"
    found = [f"{name}: {v['severity']}" for name, v in report["vulnerabilities"].items()]
    print(f"proxy: {len(found)} vulnerable packages")
    return found, None


def main() -> int:
    strict = os.environ.get("AUDIT_STRICT", "") not in ("", "0")
    failed = False
    for audit in (audit_python, audit_labextension, audit_proxy):
        found, note = audit()
        for line in found:
            print(f"  VULNERABLE {line}")
        if note:
            print(f"  WARNING {note}")
        failed = failed or bool(found) or (strict and note is not None)
    print("audit: FAILED" if failed else "audit: passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
