"""``llmlab serve``: the llmlab services as a JupyterHub service (see :mod:`..hub.serve`)."""

from __future__ import annotations

import click


@click.command(
    "serve",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option("--ip", default=None, help="Address to bind [default: from JUPYTERHUB_SERVICE_URL].")
@click.option("--port", type=int, default=None, help="Port [default: from JUPYTERHUB_SERVICE_URL].")
@click.option(
    "--token-cache-seconds",
    type=click.IntRange(0),
    default=None,
    help="How long a token the Hub confirmed is trusted; a revoked token is refused at most "
    "this long after [default: LLMLAB_TOKEN_CACHE_S or 60].",
)
@click.pass_context
def serve(
    ctx: click.Context, ip: str | None, port: int | None, token_cache_seconds: int | None
) -> None:
    """Run the services for a team as a JupyterHub service (the only holder of secrets).

    Started by the Hub (``c.JupyterHub.services``) or beside it with the same
    ``JUPYTERHUB_*`` variables. Further ``--Class.trait=value`` arguments are passed to the
    server, e.g. ``--LlmLabConfig.executor_class=...``.
    """
    from ..hub.serve import serve as run

    run(ip=ip, port=port, token_cache_s=token_cache_seconds, extra=list(ctx.args))
