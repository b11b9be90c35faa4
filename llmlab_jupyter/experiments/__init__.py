"""Experiments: the runner (plan → execute → record), scorers and statistics.

The runner calls the gateway and writes results through the store in batches; nothing here
imports the services, the server or the SDK.
"""
