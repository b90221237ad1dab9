"""The request log: what the gateway saw, one row per request, stored redacted.

The gateway writes it (``gateway.requestlog``); monitoring reads it
(:mod:`llmops.monitoring.reader`). Both share the table and the redaction here.
"""
