"""The first names and surnames the name recognizer knows, and how they were made.

``data/names.tsv.gz`` holds, for each name written in letters (hyphens and apostrophes
between them), its best rank among first names and among surnames in any of the 105
countries of the ``names-dataset`` package (drawn from public social-network profiles):
first names up to rank 2,000 in some country, surnames up to rank 3,000 (about 260,000
names), and how common each is as a word of English, French, Spanish or German (the
highest Zipf frequency of the four, from ``wordfreq``: "Will" and "Rose" are common
words, "Priya" is not); and the words of those languages used at least once in a
million words, names or not, with theirs. The package itself loads 2 GB in 8 s, and the four word lists
180 MB; this file loads in a third of a second and holds 45 MB.
Rebuild it with ``python -m llmops.requestlog.namelists`` (``names-dataset`` installed).
"""

from __future__ import annotations

import gzip
import pickle
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

FIRST_RANK = 2000
LAST_RANK = 3000
_FILE = "names.tsv.gz"
LANGUAGES = ("en", "fr", "es", "de")
COMMON_WORDS = 60_000
COMMON_ZIPF = 3.0
"""Words of each language this common or more are listed too, names or not."""
_LETTERS = re.compile(r"^[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*$")


@dataclass(frozen=True, slots=True)
class Names:
    first: dict[str, int]
    """Casefolded first name to its best rank."""
    last: dict[str, int]
    """Casefolded surname to its best rank."""
    common: dict[str, float]
    """Casefolded name or common word to its Zipf frequency as a word (absent: a word
    rarer than once in a million words, Zipf 3)."""


@lru_cache(maxsize=1)
def names() -> Names:
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    common: dict[str, float] = {}
    data = resources.files("llmops.requestlog") / "data" / _FILE
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        for line in f:
            name, first_rank, last_rank, zipf = line.rstrip("\n").split("\t")
            key = name.casefold()
            if first_rank:
                first[key] = min(int(first_rank), first.get(key, FIRST_RANK))
            if last_rank:
                last[key] = min(int(last_rank), last.get(key, LAST_RANK))
            if zipf:
                common[key] = float(zipf)
    return Names(first, last, common)


def _best_ranks(path: Path, limit: int) -> dict[str, int]:
    with gzip.open(path) as f:
        table = pickle.load(f)  # noqa: S301 - see above
    out: dict[str, int] = {}
    for name, info in table.items():
        ranks = [r for r in (info.get("rank") or {}).values() if r]
        if ranks and len(name) > 1 and _LETTERS.match(name) and min(ranks) <= limit:
            out[name] = min(ranks)
    return out


def build(destination: Path) -> int:
    """Write the file from the installed ``names-dataset``; how many names."""
    import names_dataset  # noqa: PLC0415 - a build-time dependency only
    from wordfreq import top_n_list, zipf_frequency  # noqa: PLC0415

    source = Path(names_dataset.__file__).parent / "v3"
    first = _best_ranks(source / "first_names.pkl.gz", FIRST_RANK)
    last = _best_ranks(source / "last_names.pkl.gz", LAST_RANK)
    words = {
        w
        for lang in LANGUAGES
        for w in top_n_list(lang, COMMON_WORDS)
        if _LETTERS.match(w) and zipf_frequency(w, lang) >= COMMON_ZIPF
    }
    every = sorted(set(first) | set(last) | words)
    with gzip.GzipFile(destination, "wb", mtime=0) as raw:
        for name in every:
            zipf = max(zipf_frequency(name.casefold(), lang) for lang in LANGUAGES)
            common = f"{zipf:.2f}" if zipf > 0 else ""
            line = f"{name}\t{first.get(name, '')}\t{last.get(name, '')}\t{common}\n"
            raw.write(line.encode())
    return len(every)


if __name__ == "__main__":
    target = Path(__file__).parent / "data" / _FILE
    print(f"{build(target)} names written to {target.name}")
