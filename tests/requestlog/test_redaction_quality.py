"""The redactor's figures on its sealed sets, a little below what was measured, so that a
change that loses names or alters look-alikes fails here (the figures themselves, with
their intervals, come from ``bench/redaction_pii.py`` and ``bench/redaction_quality.py``).
"""

from __future__ import annotations

from bench import redaction_pii, redaction_quality
from llmops.requestlog.redaction import PiiRedactor

REDACTOR = PiiRedactor()


def test_people_and_identifiers_on_the_sealed_set() -> None:
    messages = redaction_pii.load(redaction_pii.SEALED)
    judged = redaction_pii.judge(messages, [REDACTOR.find(m["text"]) for m in messages])

    def share(kinds: set[str]) -> float:
        hit, n = judged.rate(kinds)
        return hit / n

    # Measured once: names 90.6%, addresses 83.6%, dates of birth 92.7%, identifiers with
    # a format 100%, decoys altered 1.3%, messages without personal data altered 5.0%.
    assert share({"PERSON"}) >= 0.89
    assert share({"ADDRESS"}) >= 0.80
    assert share({"DATE_OF_BIRTH"}) >= 0.90
    assert share(redaction_pii.IDENTIFIERS) >= 0.99
    altered, decoys = judged.altered(judged.decoys)
    assert altered / decoys <= 0.015
    altered, clean = judged.altered(judged.clean)
    assert altered / clean <= 0.06


def test_secrets_on_their_sealed_set() -> None:
    messages = redaction_quality.load()
    outputs = [REDACTOR.redact(m["text"]).text for m in messages]
    secrets = [(s, out) for m, out in zip(messages, outputs, strict=True) for s in m["secrets"]]
    decoys = [(d, out) for m, out in zip(messages, outputs, strict=True) for d in m["decoys"]]
    caught = sum(redaction_quality.caught(s, out) for s, out in secrets)
    altered = sum(d not in out for d, out in decoys)
    # First measured 93.8% caught and 2.6% of decoys altered (now 95.9% and 1.0%).
    assert caught / len(secrets) >= 0.93
    assert altered / len(decoys) <= 0.03
