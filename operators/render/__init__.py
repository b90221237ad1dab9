"""Manifests as pure functions of a custom resource's spec and the operator's config.

Every object is complete (``apiVersion``, ``kind``, ``metadata`` with our labels and a
controller owner reference), so it can be created, or server-side applied with the
``llmops-operator`` field manager, as it is.
"""
