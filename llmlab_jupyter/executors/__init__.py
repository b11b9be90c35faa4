"""Executors run queued batch jobs: local worker processes (default) or Celery workers.

Only this package imports papermill (``papermill_run``) and Celery (``celery_app``).
"""
