"""Harness for the tests on a real JupyterHub: processes, private PostgreSQL, moto S3, the
Hub itself, a recording HTTP client and a kernel runner (see ``tests/hub/conftest.py``)."""
