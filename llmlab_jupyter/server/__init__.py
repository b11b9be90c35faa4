"""The REST API: one handler module per resource, the route table, OpenAPI, in-memory read caches.

Handlers parse requests and call the services (never the store's queries directly; the
caches read the store's catalogue snapshots); they are written against ``host.ApiHost``.
"""
