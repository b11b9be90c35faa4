"""Request, query and response models of the REST API, validated by pydantic.

``common`` holds paging, errors and the catalogue, projects and jobs bodies; ``experiments``
the experiment, feedback and usage bodies. The OpenAPI document is generated from them.
"""
