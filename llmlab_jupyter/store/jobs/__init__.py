"""Queries of batch jobs: the queue (submit, reads, logs), leases (claim, heartbeat, finish,
reap), dispatch bookkeeping for brokers, and cron schedules with their alerts.
"""
