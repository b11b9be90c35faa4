"""Executors run queued batch jobs: local worker processes (default) or Celery workers.

Only this package imports papermill (``papermill_run``) and Celery (``celery_app``); executors
see the services through the ``host.JobHost`` protocol (only the worker processes' entry
points build a ``Services`` of their own).
"""
