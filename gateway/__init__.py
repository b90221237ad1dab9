"""The llmops gateway: the one OpenAI-compatible door to every model.

It authenticates teams by API key, holds them to request and token limits that
are shared by every replica, routes to model replicas and records what it saw.
"""
