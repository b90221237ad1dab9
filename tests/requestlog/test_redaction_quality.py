"""The redactor's figures on its sealed sets, a little below what was measured, so that a
change that loses names or alters look-alikes fails here (the figures themselves, with
their intervals, come from ``bench/redaction_pii.py`` and ``bench/redaction_quality.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench import redaction_pii, redaction_quality
from llmops.requestlog.redaction import PiiRedactor

REDACTOR = PiiRedactor()


def judged(path: Path) -> tuple[Callable[[set[str]], float], float, float]:
    """Share caught per kinds, and shares of decoys and clean messages altered."""
    messages = redaction_pii.load(path)
    found = redaction_pii.judge(messages, [REDACTOR.find(m["text"]) for m in messages])

    def share(kinds: set[str]) -> float:
        hit, n = found.rate(kinds)
        return hit / n

    decoys, clean = found.altered(found.decoys), found.altered(found.clean)
    return share, decoys[0] / decoys[1], clean[0] / clean[1]


def test_people_and_identifiers_on_the_second_sealed_set() -> None:
    share, decoys, clean = judged(redaction_pii.SEALED_SETS[1])
    # Measured once: names 96.2%, addresses 75.4%, dates of birth 88.4%, identifiers with
    # a format 99.6%, decoys altered 2.0%, messages without personal data altered 3.8%.
    assert share({"PERSON"}) >= 0.95
    assert share({"ADDRESS"}) >= 0.72
    assert share({"DATE_OF_BIRTH"}) >= 0.85
    assert share(redaction_pii.IDENTIFIERS) >= 0.99
    assert decoys <= 0.025
    assert clean <= 0.05


def test_people_and_identifiers_on_the_first_sealed_set() -> None:
    share, decoys, clean = judged(redaction_pii.SEALED_SETS[0])
    # Measured once, by the first version: names 90.6%, addresses 83.6%, dates of birth
    # 92.7%, identifiers with a format 100%, decoys altered 1.3%, clean messages 5.0%.
    assert share({"PERSON"}) >= 0.89
    assert share({"ADDRESS"}) >= 0.80
    assert share({"DATE_OF_BIRTH"}) >= 0.90
    assert share(redaction_pii.IDENTIFIERS) >= 0.99
    assert decoys <= 0.015
    assert clean <= 0.06


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


def test_people_and_identifiers_on_the_third_to_tenth_sealed_sets() -> None:
    # Measured once each, by the third to sixth versions: names 89.1%, 75.0%, 84.4% and
    # 82.9%, identifiers 96.0%, 94.0%, 91.4% and 96.3%, decoys altered 1.6%, 2.4%, 2.3% and
    # 3.6%. The later versions were tuned on them: names 91.1%, 87.6%, 87.4% and 82.2%,
    # identifiers 98.5%, 98.0%, 95.2% and 96.3%, decoys 0.6%, 0.7%, 1.0% and 2.5%, which
    # these bounds keep. The name reader learned from them too. The seventh judged the
    # first version with the name reader once: names 87.4%, identifiers 68.8% (made-up
    # cards and IBANs failing their check digits among them), decoys 2.5%; the eighth the
    # second version: 80.1%, 95.9%, 4.9%; the ninth the third: 87.1%, 94.6%, 4.1%; the
    # tenth the fourth (firms' phone lines): 83.6%, 90.8%, 5.0%. All were learned from
    # after; now names 95.6%, 91.2%, 92.4%, 93.1%, 91.2%, 86.7%, 88.4% and 86.0% on the
    # third to tenth, decoys 0.6%, 0.9%, 1.0%, 2.5%, 2.0%, 3.9%, 3.3% and 4.5%.
    for path, names, identifiers, most_decoys in (
        (redaction_pii.SEALED_SETS[2], 0.90, 0.975, 0.01),
        (redaction_pii.SEALED_SETS[3], 0.87, 0.97, 0.01),
        (redaction_pii.SEALED_SETS[4], 0.86, 0.93, 0.012),
        (redaction_pii.SEALED_SETS[5], 0.81, 0.95, 0.029),
        (redaction_pii.SEALED_SETS[6], 0.86, 0.67, 0.023),
        (redaction_pii.SEALED_SETS[7], 0.85, 0.94, 0.05),
        (redaction_pii.SEALED_SETS[8], 0.86, 0.93, 0.042),
        (redaction_pii.SEALED_SETS[9], 0.84, 0.89, 0.047),
    ):
        share, decoys, _ = judged(path)
        assert share({"PERSON"}) >= names
        assert share(redaction_pii.IDENTIFIERS) >= identifiers
        assert decoys <= most_decoys
