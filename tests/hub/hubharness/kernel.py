"""Run code in a user's kernel over the Jupyter REST API and the kernel websocket.

Goes through the Hub's proxy like JupyterLab does: ``POST /user/<name>/api/kernels``, then
``…/api/kernels/<id>/channels`` (the JSON websocket protocol), one ``execute_request``, and
collects the ``stream``, ``execute_result`` and ``error`` messages of that request until
the kernel is idle again.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import websocket

from .hub import Hub


@dataclass
class Execution:
    stdout: str = ""
    stderr: str = ""
    results: list[str] = field(default_factory=list)
    error: str = ""

    def check(self) -> Execution:
        if self.error:
            raise AssertionError(f"cell failed:\n{self.error}\nstderr:\n{self.stderr}")
        return self


class Kernel:
    """A kernel of ``user``'s server, reached with ``token`` (needs access to that server)."""

    def __init__(self, hub: Hub, user: str, token: str) -> None:
        self.hub, self.user, self.token = hub, user, token
        reply = hub.client.json("POST", f"user/{user}/api/kernels", token, json={"name": "python3"})
        self.id = reply["id"]
        ws_url = hub.url.replace("http://", "ws://", 1)
        self.ws = websocket.create_connection(
            f"{ws_url}user/{user}/api/kernels/{self.id}/channels",
            header=[f"Authorization: token {token}"],
            timeout=30,
        )
        self.session = uuid.uuid4().hex

    def execute(self, code: str, timeout: float = 120) -> Execution:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": self.user,
            "session": self.session,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "version": "5.3",
        }
        content = {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        message = {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
        self.ws.send(json.dumps(message))
        out = Execution()
        idle = replied = False
        deadline = time.monotonic() + timeout
        while not (idle and replied):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer from {self.user}'s kernel within {timeout} s")
            self.ws.settimeout(left)
            raw = self.ws.recv()
            self.hub.client.record("WS", f"kernel {self.id}", 200, str(raw))
            msg: dict[str, Any] = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, body = msg["msg_type"], msg["content"]
            if kind == "stream":
                if body["name"] == "stdout":
                    out.stdout += body["text"]
                else:
                    out.stderr += body["text"]
            elif kind == "execute_result":
                out.results.append(body["data"].get("text/plain", ""))
            elif kind == "error":
                out.error = "\n".join(
                    body.get("traceback") or [f"{body['ename']}: {body['evalue']}"]
                )
            elif kind == "status" and body["execution_state"] == "idle":
                idle = True
            elif kind == "execute_reply":
                replied = True
                if body.get("status") == "error" and not out.error:
                    out.error = f"{body.get('ename')}: {body.get('evalue')}"
        return out

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.hub.client.call("DELETE", f"user/{self.user}/api/kernels/{self.id}", self.token)
