"""The drift check: a reference window against a current window, with Evidently.

Per-request figures and text descriptors go through ``DataDriftPreset`` (one
statistical test per feature, Evidently's choice of test by column type); prompt
embeddings (MiniLM) through ``EmbeddingsDrift``. The result holds each feature's
score (the test's p-value or distance), which features drifted, the share of
drifted features and the HTML report.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from llmops.monitoring import features
from llmops.monitoring.embeddings import Embedder, Vectors
from llmops.requestlog.table import RequestRecord

EMBEDDING_FEATURE = "prompt_embedding"


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    feature: str
    score: float
    """The test's p-value (drift below the threshold) or distance (drift above it)."""
    method: str
    threshold: float
    drifted: bool


@dataclass(frozen=True, slots=True)
class DriftResult:
    reference_rows: int
    current_rows: int
    features: tuple[FeatureDrift, ...]
    drift_share: float
    """Share of the figure and descriptor features that drifted."""
    embedding: FeatureDrift | None
    html: str = field(repr=False, default="")

    @property
    def all_features(self) -> tuple[FeatureDrift, ...]:
        """The figure and descriptor features, then the embedding's when it was checked."""
        return (*self.features, self.embedding) if self.embedding else self.features

    @property
    def drifted_features(self) -> list[str]:
        return [f.feature for f in self.all_features if f.drifted]

    def as_dict(self) -> dict[str, object]:
        return {
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "drift_share": self.drift_share,
            "features": [
                {
                    "feature": f.feature,
                    "score": f.score,
                    "method": f.method,
                    "threshold": f.threshold,
                    "drifted": f.drifted,
                }
                for f in self.all_features
            ],
        }


@dataclass(frozen=True, slots=True)
class DriftCheckOptions:
    feature_threshold: float = 0.05
    drift_share: float = 0.5
    embedding_threshold: float = 0.2
    """Cosine distance between the windows' mean prompt embeddings that counts as drift."""
    embedding_sample: int = 150
    """Prompts per window embedded (Evidently draws a t-SNE picture of them: its cost
    grows with this)."""


def _columns(reference: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """The numeric features worth testing: not constant-and-equal, not all missing."""
    keep = []
    for name in features.NUMERIC:
        ref, cur = reference[name].dropna(), current[name].dropna()
        if ref.empty or cur.empty:
            continue
        if ref.nunique() == 1 and cur.nunique() == 1 and ref.iloc[0] == cur.iloc[0]:
            continue
        keep.append(name)
    return keep


def check(
    reference: Sequence[RequestRecord],
    current: Sequence[RequestRecord],
    options: DriftCheckOptions,
    embedder: Embedder | None = None,
) -> DriftResult:
    """Compare the windows (blocking: seconds to a minute; run it in a thread)."""
    with warnings.catch_warnings():
        # Evidently 0.7 touches numpy.core and divides by zero on constant columns.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        return _check(reference, current, options, embedder)


def _check(
    reference: Sequence[RequestRecord],
    current: Sequence[RequestRecord],
    options: DriftCheckOptions,
    embedder: Embedder | None,
) -> DriftResult:
    from evidently import DataDefinition, Dataset, Report  # noqa: PLC0415 (slow import)
    from evidently.descriptors import TextLength, WordCount  # noqa: PLC0415
    from evidently.legacy.metrics.data_drift.embedding_drift_methods import (  # noqa: PLC0415
        distance,
    )
    from evidently.metrics import EmbeddingsDrift  # noqa: PLC0415
    from evidently.presets import DataDriftPreset  # noqa: PLC0415

    ref, cur = features.frame(reference), features.frame(current)
    numeric = _columns(ref, cur)
    descriptors = [
        TextLength("prompt_text", alias="prompt_length"),
        WordCount("prompt_text", alias="prompt_words"),
        TextLength("completion_text", alias="completion_length"),
        WordCount("completion_text", alias="completion_words"),
    ]
    embedding_columns: list[str] = []
    if embedder is not None:
        ref_vectors = _sample_embeddings(embedder, reference, options.embedding_sample)
        cur_vectors = _sample_embeddings(embedder, current, options.embedding_sample)
        if len(ref_vectors) >= 2 and len(cur_vectors) >= 2:
            embedding_columns = [f"e{i}" for i in range(ref_vectors.shape[1])]
            ref = _with_vectors(ref, ref_vectors, embedding_columns)
            cur = _with_vectors(cur, cur_vectors, embedding_columns)
    definition = DataDefinition(
        numerical_columns=numeric,
        text_columns=list(features.TEXT),
        embeddings={EMBEDDING_FEATURE: embedding_columns} if embedding_columns else None,
    )
    ref_data = Dataset.from_pandas(ref, data_definition=definition, descriptors=descriptors)
    cur_data = Dataset.from_pandas(cur, data_definition=definition, descriptors=descriptors)
    tested = [*numeric, *features.DESCRIPTORS]
    metrics: list[object] = [
        DataDriftPreset(
            columns=tested, threshold=options.feature_threshold, drift_share=options.drift_share
        )
    ]
    if embedding_columns:
        metrics.append(
            EmbeddingsDrift(
                embeddings_name=EMBEDDING_FEATURE,
                drift_method=distance(dist="cosine", threshold=options.embedding_threshold),
            )
        )
    snapshot = Report(metrics, include_tests=True).run(
        current_data=cur_data, reference_data=ref_data
    )
    return _result(
        snapshot,
        reference_rows=len(reference),
        current_rows=len(current),
        tested=tested,
        options=options,
        with_embedding=bool(embedding_columns),
    )


def _sample_embeddings(embedder: Embedder, records: Sequence[RequestRecord], n: int) -> Vectors:
    prompts = features.sampled_prompts(records)
    if len(prompts) > n:
        picks = np.random.default_rng(0).choice(len(prompts), n, replace=False)
        prompts = [prompts[i] for i in sorted(picks)]
    return embedder.embed(prompts)


def _with_vectors(
    frame: pd.DataFrame,
    vectors: Vectors,
    columns: list[str],
) -> pd.DataFrame:
    """The frame with one row per embedded prompt beside the figures (rows repeat or are
    cut so the lengths match: the embedding test reads only its own columns)."""
    rows = frame.sample(len(vectors), replace=len(vectors) > len(frame), random_state=0)
    rows = rows.reset_index(drop=True)
    return pd.concat([rows, pd.DataFrame(vectors, columns=columns)], axis=1)


def _result(
    snapshot: object,
    *,
    reference_rows: int,
    current_rows: int,
    tested: list[str],
    options: DriftCheckOptions,
    with_embedding: bool,
) -> DriftResult:
    data = snapshot.dict()  # type: ignore[attr-defined]
    found: list[FeatureDrift] = []
    embedding: FeatureDrift | None = None
    for metric in data["metrics"]:
        config = metric["config"]
        kind = config.get("type", "")
        if kind.endswith("ValueDrift") and config["column"] in tested:
            method = str(config.get("method", ""))
            score = float(metric["value"])
            threshold = float(config.get("threshold") or options.feature_threshold)
            drifted = score < threshold if "p_value" in method else score > threshold
            found.append(FeatureDrift(config["column"], score, method, threshold, drifted))
        elif kind.endswith("EmbeddingsDrift") and with_embedding:
            score = float(metric["value"])
            embedding = FeatureDrift(
                EMBEDDING_FEATURE,
                score,
                "cosine distance of mean embeddings",
                options.embedding_threshold,
                score > options.embedding_threshold,
            )
    share = sum(f.drifted for f in found) / len(found) if found else 0.0
    html = snapshot.get_html_str(as_iframe=False)  # type: ignore[attr-defined]
    return DriftResult(reference_rows, current_rows, tuple(found), share, embedding, html)
