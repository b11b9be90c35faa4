"""Prometheus metrics at <base_url>llmlab/metrics: per-app registry, counts by route and status."""

from __future__ import annotations

from llmlab_jupyter import metrics


async def test_requests_are_counted_by_route_template_and_status(api, jp_serverapp):
    await api("GET", "projects/default/prompts/greet")  # 404
    await api("GET", "projects/default")
    reply = await api("GET", "metrics", prefix="llmlab")
    assert reply.status == 200
    assert reply.response.headers["Content-Type"].startswith("text/plain")
    text = reply.body
    assert (
        'llmlab_http_requests_total{method="GET",route="/projects/{project}/prompts/{name}",'
        'status="404"} 1.0' in text
    )
    assert 'route="/projects/{project}",status="200"' in text
    assert "llmlab_http_request_duration_seconds_bucket" in text
    assert "greet" not in text  # templates, never raw paths
    app = jp_serverapp.extension_manager.extension_apps["llmlab_jupyter"]
    (ext,) = app if isinstance(app, set) else [app]
    assert metrics.current() is ext.metrics


def test_each_metrics_object_has_its_own_registry():
    a, b = metrics.Metrics(), metrics.Metrics()
    a.observe_request("GET", "/x", 200, 0.01)
    assert b"llmlab_http_requests_total" in a.render()[0]
    assert b'route="/x"' not in b.render()[0]
