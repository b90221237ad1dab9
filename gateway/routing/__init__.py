"""Choosing where a request goes: versions, replicas, retries and broken replicas.

Every decision here is a pure function or a small state machine over plain data
(`strategies`, `circuit`, `retry`), so it is tested without servers; the pools
(`pools`) hold the state those decisions read, and `health` probes replicas in
the background.
"""
