"""Drift monitoring: read the request log, compare windows, decide and run retraining."""
