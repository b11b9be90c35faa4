"""Every llmlab route is authenticated and authorized, proven on the running server.

Enumerates the rules of the server's tornado application that match ``llmlab`` and, for every
HTTP method a handler implements, checks that (1) the method carries the ``operation``
decoration (web.authenticated + the authorizer on resource ``llmlab``), and (2) an
unauthenticated call gets a 403 JSON error, never a redirect or a page. ``OPTIONS`` is
jupyter-server's CORS pre-flight answer (no data) and is left as jupyter-server defines it.
"""

from __future__ import annotations

import re

from tornado import web
from tornado.routing import PathMatches

from .conftest import assert_error

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def llmlab_rules(web_app: web.Application) -> list[tuple[str, type]]:
    found: list[tuple[str, type]] = []

    def walk(router) -> None:
        for rule in getattr(router, "rules", []):
            target = rule.target
            if hasattr(target, "rules"):
                walk(target)
            elif isinstance(rule.matcher, PathMatches):
                pattern = rule.matcher.regex.pattern
                if "llmlab" in pattern:
                    found.append((pattern, target))

    walk(web_app.default_router)
    return found


def implemented(handler: type) -> list[str]:
    return [
        m
        for m in METHODS
        if getattr(handler, m.lower()) is not getattr(web.RequestHandler, m.lower())
    ]


def sample_path(pattern: str) -> str:
    """A concrete path for a route regex: each group becomes a plausible value."""
    path = pattern.rstrip("$")
    path = path.replace("(history)", "history").replace("(/.*)?", "/nowhere")
    return re.sub(r"\([^)]*\)", "x1", path).replace("\\", "")


async def test_every_llmlab_route_is_protected(jp_serverapp, http_server_client):
    rules = llmlab_rules(jp_serverapp.web_app)
    assert len(rules) >= 20, rules
    checked = 0
    for pattern, handler in rules:
        methods = implemented(handler)
        assert methods, f"{pattern} implements nothing"
        for method in methods:
            fn = getattr(handler, method.lower())
            meta = getattr(fn, "__llmlab_operation__", None)
            assert meta is not None, f"{method} {pattern} is not declared with @operation"
            assert meta.action in ("read", "write")
            response = await http_server_client.fetch(
                sample_path(pattern),
                method=method,
                body=b"{}" if method in ("POST", "PUT", "PATCH") else None,
                raise_error=False,
                follow_redirects=False,
                allow_nonstandard_methods=True,
            )
            assert response.code == 403, (method, pattern, response.code)
            assert response.headers["Content-Type"].startswith("application/json")
            body = response.body.decode()
            assert '"error_code"' in body and "Traceback" not in body, body
            checked += 1
    assert checked >= 27


async def test_unauthenticated_is_json_403_not_redirect(api):
    for method, path in [("GET", "projects"), ("POST", "projects"), ("GET", "openapi.json")]:
        reply = await api(method, path, user=None, json_body={} if method == "POST" else None)
        assert_error(reply, 403, "unauthenticated")
    reply = await api("GET", "metrics", user=None, prefix="llmlab")
    assert_error(reply, 403, "unauthenticated")


async def test_a_wrong_token_is_refused(api):
    reply = await api("GET", "projects", user=None, headers={"Authorization": "token nope"})
    assert_error(reply, 403)


async def test_authorizer_is_consulted_with_resource_llmlab(jp_serverapp, api):
    seen: list[tuple[str, str]] = []
    authorizer = jp_serverapp.authorizer
    original = authorizer.is_authorized

    def spy(handler, user, action, resource):
        seen.append((action, resource))
        if user.username == "carol" and action == "write":
            return False
        return original(handler, user, action, resource)

    authorizer.is_authorized = spy
    try:
        assert (await api("GET", "projects", user="carol")).status == 200
        denied = await api("POST", "projects", user="carol", json_body={"slug": "c"})
        assert_error(denied, 403)
    finally:
        authorizer.is_authorized = original
    assert ("read", "llmlab") in seen and ("write", "llmlab") in seen


async def test_cookie_writes_need_xsrf(api):
    # a token request sets the login cookie; the cookie alone then authenticates
    first = await api("GET", "projects", user="alice")
    cookies = [c.split(";", 1)[0] for c in first.response.headers.get_list("Set-Cookie")]
    login = "; ".join(c for c in cookies if not c.startswith("_xsrf"))
    assert login
    read = await api("GET", "projects", user=None, headers={"Cookie": login})
    assert read.status == 200
    denied = await api(
        "POST", "projects", user=None, headers={"Cookie": login}, json_body={"slug": "x"}
    )
    assert_error(denied, 403)
    assert "xsrf" in denied.body["message"].lower()
    xsrf = "2|abcdef01|0123456789abcdef0123456789abcdef|1700000000"
    ok = await api(
        "POST",
        "projects",
        user=None,
        headers={"Cookie": f"{login}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
        json_body={"slug": "from-cookie"},
    )
    assert ok.status == 201, ok.body
    assert ok.body["created_by"] == "alice"
