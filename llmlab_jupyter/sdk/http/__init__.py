"""The SDK's HTTP transport: the service API (same methods, same records) over the REST API.

``transport`` sends requests and maps error bodies back to the one error tree; ``services``
and ``experiments`` mirror the in-process services. Nothing here touches the database.
"""
