"""Queries of the catalogue: projects and members, prompts and versions, labels, datasets.

``generations`` reads a project's whole prompt catalogue at once and the trigger-kept
counters that tell the server's in-memory copies whether they are current.
"""
