"""Train the prompt-injection detector (``gateway/guardrails/injection.py``) and choose its
threshold.

The model is fitted on the sets in ``TRAINING`` only: messages written for training, and
the sealed sets already judged (the labeled set's evaluation half and the second sealed
set, spent once read). The threshold is chosen on the labeled set's tuning half: the
score where the smaller of the two margins over the targets (precision 0.95, recall
0.90) is largest, so that neither figure sits on its edge. The third sealed set is never
read here (``bench/guardrails.py --sealed3`` reports on it).

    python bench/guardrails_train.py [--precision 0.95] [--recall 0.90] [--c 64]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `gateway`

from gateway.guardrails import injection

DATA = Path(__file__).parent / "data"
TRAINING = (
    *(f"guardrails_injection_train{n}.jsonl" for n in ("", "2", "3", "4", "5")),
    "guardrails_injection_eval.jsonl",
    "guardrails_injection_sealed2.jsonl",
)
"""The sets the shipped weights (the detector's second version) were trained on."""


def read(name: str) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in (DATA / name).read_text().splitlines() if line]
    return [r["text"] for r in rows], np.array([r["label"] == "injection" for r in rows])


def matrix(texts: list[str]) -> sparse.csr_matrix:
    rows, cols, values = [], [], []
    for i, text in enumerate(texts):
        index, weight = injection.features(text)
        rows.append(np.full(len(index), i))
        cols.append(index)
        values.append(weight)
    return sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(texts), injection.DIMENSIONS),
    )


def threshold_for(scores: np.ndarray, labels: np.ndarray, precision: float, recall: float) -> float:
    """The threshold whose smaller margin over the two targets is largest on ``scores``."""
    best, best_margin = 0.5, -1.0
    for t in sorted(set(np.round(scores, 4))):
        flagged = scores >= t
        if not flagged.sum():
            continue
        margin = min(labels[flagged].mean() - precision, flagged[labels].mean() - recall)
        if margin > best_margin:
            best, best_margin = float(t), margin
    return best


def report(name: str, scores: np.ndarray, labels: np.ndarray, threshold: float) -> None:
    flagged = scores >= threshold
    tp = int((flagged & labels).sum())
    print(
        f"{name}: precision {tp / max(1, flagged.sum()):.3f} ({tp}/{int(flagged.sum())}), "
        f"recall {tp / max(1, labels.sum()):.3f} ({tp}/{int(labels.sum())}) at {threshold:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", type=float, default=0.95, help="precision target")
    parser.add_argument("--recall", type=float, default=0.90, help="recall target")
    parser.add_argument("--c", type=float, default=64.0, help="inverse regularisation")
    args = parser.parse_args()
    texts: list[str] = []
    parts = []
    for name in TRAINING:
        more, more_labels = read(name)
        texts += more
        parts.append(more_labels)
    labels = np.concatenate(parts)
    model = LogisticRegression(C=args.c, max_iter=2000, class_weight="balanced")
    model.fit(matrix(texts), labels)
    tune_texts, tune_labels = read("guardrails_injection_tune.jsonl")
    scores = model.predict_proba(matrix(tune_texts))[:, 1]
    threshold = threshold_for(scores, tune_labels, args.precision, args.recall)
    report("training set", model.predict_proba(matrix(texts))[:, 1], labels, threshold)
    report("tuning half", scores, tune_labels, threshold)
    weights = model.coef_[0].astype(np.float32)
    np.savez_compressed(
        injection.WEIGHTS,
        weights=weights,
        bias=np.float32(model.intercept_[0]),
        threshold=np.float32(threshold),
    )
    print(f"wrote {injection.WEIGHTS} ({injection.WEIGHTS.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
