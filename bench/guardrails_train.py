"""Train the prompt-injection detector's two stages and choose their thresholds: the
n-gram model (``gateway/guardrails/injection.py``) and the model over sentence vectors
and n-gram log-odds (``gateway/guardrails/meaning.py``).

Both are fitted on the sets in ``TRAINING`` only: messages written for training, and the
sealed sets already judged (spent once read). The second stage learns from the n-gram
model's out-of-fold log-odds (5-fold), so that it does not trust them more than they
deserve on text the n-grams never saw. Each threshold is chosen on the labeled set's
tuning half: the score where the smaller of the two margins over the targets (precision
0.95, recall 0.90) is largest, so that neither figure sits on its edge. The fourth sealed
set is never read here (``bench/guardrails.py --sealed4`` reports on it).

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
from sklearn.model_selection import StratifiedKFold, cross_val_predict

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `gateway`

from gateway.guardrails import injection, meaning
from llmops import sentences

DATA = Path(__file__).parent / "data"
TRAINING = (
    *(f"guardrails_injection_train{n}.jsonl" for n in ("", "2", "3", "4", "5")),
    "guardrails_injection_eval.jsonl",
    "guardrails_injection_sealed2.jsonl",
    "guardrails_injection_sealed3.jsonl",
)
"""The sets the shipped weights (the detector's third version) were trained on."""
SECOND_STAGE_C = 4.0


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
    features = matrix(texts)
    model = LogisticRegression(C=args.c, max_iter=2000, class_weight="balanced")
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    unseen = cross_val_predict(model, features, labels, cv=folds, method="decision_function")
    model.fit(features, labels)
    ngrams = injection.InjectionDetector(
        weights=model.coef_[0].astype(np.float32), bias=float(model.intercept_[0]), threshold=0.5
    )
    tune_texts, tune_labels = read("guardrails_injection_tune.jsonl")
    scores = np.array(ngrams.scores(tune_texts))
    ngrams.threshold = threshold_for(scores, tune_labels, args.precision, args.recall)
    report("n-grams, tuning half", scores, tune_labels, ngrams.threshold)

    print(f"reading {len(texts)} training messages with the sentence encoder", flush=True)
    encoder = sentences.model()
    vectors = np.concatenate(
        [meaning.encode(encoder, texts[i : i + 64]) for i in range(0, len(texts), 64)]
    )
    second = LogisticRegression(C=SECOND_STAGE_C, max_iter=3000, class_weight="balanced")
    second.fit(meaning.inputs(vectors, unseen), labels)
    both = meaning.TwoStageDetector(
        ngrams, second.coef_[0].astype(np.float64), float(second.intercept_[0]), 0.5, encoder
    )
    scores = np.array(both.scores(tune_texts))
    both.threshold = threshold_for(scores, tune_labels, args.precision, args.recall)
    report("both stages, tuning half", scores, tune_labels, both.threshold)

    np.savez_compressed(
        injection.WEIGHTS,
        weights=ngrams.weights,
        bias=np.float32(ngrams.bias),
        threshold=np.float32(ngrams.threshold),
    )
    np.savez_compressed(
        meaning.WEIGHTS,
        weights=both.weights,
        bias=np.float64(both.bias),
        threshold=np.float64(both.threshold),
    )
    print(f"wrote {injection.WEIGHTS} and {meaning.WEIGHTS}")


if __name__ == "__main__":
    main()
