"""Jupyter configuration of ``llmlab serve`` in the team stack (not a secret: no key here).

Read from ``JUPYTER_CONFIG_DIR`` (``/etc/llmlab``) as ``llmlab_serve_config.py``: the image
ships it, ``deploy/docker-compose.yml`` mounts it, and ``deploy/kubernetes/configmap.yaml``
carries the same text. Secrets (database URL, S3 and provider keys, the job-token secret)
come from the environment only, never from this file.
"""

c = get_config()  # noqa: F821 (defined by the traitlets config loader)

# Batch jobs run on the Celery workers (broker: LLMLAB_BROKER_URL), not in the service's
# own subprocesses.
c.LlmLabConfig.executor_class = "llmlab_jupyter.executors.celery_app.CeleryExecutor"
# The service keeps no local job workers; the Celery workers run every job.
c.LlmLabConfig.worker_count = 0
