"""The team deployment on JupyterHub: ``llmlab serve`` as a Hub service, Hub identities.

Owns the service's process (``serve.py``), who a Hub token names (``identity.py``), the
remote mode of the per-user server extension (``forward.py``) and finding the service
(``discovery.py``). The only jupyterhub importer.
"""
