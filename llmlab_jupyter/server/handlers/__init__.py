"""One tornado handler module per REST resource; ``base`` maps errors to JSON once.

Handlers authenticate and authorize every method, validate input with ``..schemas`` and
call the services; nothing here knows which application hosts them.
"""
