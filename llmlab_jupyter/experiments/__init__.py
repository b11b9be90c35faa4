"""Experiments: the runner (plan → execute → record), scorers and statistics."""
