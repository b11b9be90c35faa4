"""Queries of experiments: plans and records, the runner's lease, batched results, feedback,
stored summaries and the aggregates (group-by-variant statistics) behind them.
"""
