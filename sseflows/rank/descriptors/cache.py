"""A folder cache of feature vectors: compute each (representation, settings, input) once.

Key: sha256 of the JSON of the representation's name and settings plus the input's
structure (``Structure.as_dict()``) or, for a composition-only row, its composition. The
row id is *not* part of the key, so the same structure under another id, or after new
labels arrived, is a hit. Layout: ``<folder>/<name>/<key[:2]>/<key>.npy`` holds the
vector; a failure is stored as ``<key>.json`` with its reason, so it is not retried.
A composite representation is cached part by part (``magpie+soap`` reuses ``magpie``).

Changing a setting, or the code behind a representation in a way that changes its
numbers (bump that representation's settings then), gives new keys; stale files are
never read, only left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sseflows.rank.descriptors.base import (
    FeatureInput,
    FeatureMatrix,
    Representation,
    concatenate,
)


def input_payload(row: FeatureInput) -> dict[str, Any]:
    """What of ``row`` enters the key: its structure, else its composition."""
    if row.structure is not None:
        return {"structure": row.structure.as_dict()}
    return {"composition": {str(el): float(amt) for el, amt in row.composition.items()}}


def cache_key(representation: Representation, row: FeatureInput) -> str:
    """sha256 hex digest of the representation's name and settings and the row's content."""
    payload = {
        "representation": representation.name,
        "settings": representation.settings(),
        "input": input_payload(row),
    }
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _atomic_write(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    os.close(handle)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _featurise_part(
    representation: Representation, inputs: Sequence[FeatureInput], folder: Path
) -> FeatureMatrix:
    names = representation.feature_names()
    base = folder / representation.name
    X = np.full((len(inputs), len(names)), np.nan)
    failures: dict[str, str] = {}
    missing: list[int] = []
    keys = [cache_key(representation, row) for row in inputs]
    for i, (row, key) in enumerate(zip(inputs, keys, strict=True)):
        vector_path = base / key[:2] / f"{key}.npy"
        failure_path = base / key[:2] / f"{key}.json"
        if vector_path.is_file():
            vector = np.load(vector_path)
            if vector.shape == (len(names),):
                X[i] = vector
                continue
        if failure_path.is_file():
            failures[row.id] = json.loads(failure_path.read_text())["reason"]
            continue
        missing.append(i)
    if missing:
        computed = representation.featurise([inputs[i] for i in missing])
        for j, i in enumerate(missing):
            key, row_id = keys[i], inputs[i].id
            if row_id in computed.failures:
                failures[row_id] = computed.failures[row_id]
                text = json.dumps({"reason": failures[row_id]})
                _atomic_write(
                    base / key[:2] / f"{key}.json", lambda p, t=text: Path(p).write_text(t)
                )
            else:
                X[i] = computed.X[j]
                vector = computed.X[j].copy()
                _atomic_write(
                    base / key[:2] / f"{key}.npy",
                    lambda p, v=vector: np.save(p, v, allow_pickle=False),
                )
    return FeatureMatrix([row.id for row in inputs], X, names, failures)


def featurise_cached(
    representation: Representation, inputs: Sequence[FeatureInput], folder: Path
) -> FeatureMatrix:
    """Features of ``inputs`` from ``folder``, computing (and storing) only missing ones.

    Same result as ``representation.featurise(inputs)``; ``folder`` is created if needed.
    """
    folder = Path(folder)
    parts = representation.parts()
    if len(parts) == 1:
        return _featurise_part(representation, inputs, folder)
    return concatenate([_featurise_part(p, inputs, folder) for p in parts], parts)
