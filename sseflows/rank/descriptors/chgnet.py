"""CHGNet's pretrained crystal feature per atom: the offline graph embedding.

CHGNet (the ``chgnet`` package; its weights ship in the wheel, nothing is downloaded)
returns with ``predict_structure(..., return_crystal_feas=True)`` a 64-number
``crystal_fea``: the sum over atoms of the last atom features before the energy readout
(the pretrained model pools with ``read_out="sum"``). Divided by the number of atoms it
is intensive, so a cell and its supercell get the same vector. It stands in for
McHaffie's MEGNet/AtomSets features, whose weights are downloaded at run time.

Computed on the original structure (no simplification: CHGNet knows every element),
ordered by :mod:`.disorder`. The model is loaded once per process and structures are
predicted in batches of ``batch_size``; a batch that fails is retried one structure at a
time so that only the bad structure fails, with its reason. Units: the features are
dimensionless network activations per atom.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymatgen.core import Structure

from sseflows.core.errors import CandidateError
from sseflows.rank.descriptors.base import (
    FeatureInput,
    FeatureMatrix,
    Representation,
    register,
)
from sseflows.rank.descriptors.disorder import (
    DEFAULT_MIN_DISTANCE_A,
    DEFAULT_SEED,
    OrderedApproximant,
)

CRYSTAL_FEATURE_LENGTH = 64
DEFAULT_BATCH_SIZE = 16
DEFAULT_MODEL = "0.3.0"
"""The CHGNet weights that ship with chgnet 0.4 (``CHGNet.load(model_name=...)``)."""


@functools.cache
def load_chgnet(model_name: str = DEFAULT_MODEL) -> Any:
    """The pretrained CHGNet on the CPU, loaded once per process."""
    from chgnet.model import CHGNet

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CHGNet.load(model_name=model_name, use_device="cpu", verbose=False)


@dataclass
class ChgnetRepresentation(Representation):
    """CHGNet ``crystal_fea`` / number of atoms (64 columns).

    Attributes:
        model_name: CHGNet weights (:data:`DEFAULT_MODEL`).
        batch_size: Structures per forward pass.
        seed, min_distance_a: The ordered approximant's settings (:mod:`.disorder`).
    """

    model_name: str = DEFAULT_MODEL
    batch_size: int = DEFAULT_BATCH_SIZE
    seed: int = DEFAULT_SEED
    min_distance_a: float = DEFAULT_MIN_DISTANCE_A
    name: str = field(default="chgnet", init=False)
    needs_structure: bool = field(default=True, init=False)

    def settings(self) -> dict[str, Any]:
        # batch_size does not change the numbers beyond float noise: not a setting.
        return {
            "model_name": self.model_name,
            "per_atom": True,
            "seed": self.seed,
            "min_distance_a": self.min_distance_a,
        }

    def feature_names(self) -> list[str]:
        return [f"chgnet_{i}" for i in range(CRYSTAL_FEATURE_LENGTH)]

    def _predict(self, structures: list[Structure]) -> list[np.ndarray]:
        model = load_chgnet(self.model_name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = model.predict_structure(
                structures, task="e", return_crystal_feas=True, batch_size=self.batch_size
            )
        if isinstance(out, dict):
            out = [out]
        return [
            np.asarray(p["crystal_fea"], dtype=float) / len(s)
            for p, s in zip(out, structures, strict=True)
        ]

    def featurise(self, inputs: Sequence[FeatureInput]) -> FeatureMatrix:
        names = self.feature_names()
        X = np.full((len(inputs), len(names)), np.nan)
        failures: dict[str, str] = {}
        approximant = OrderedApproximant(self.seed, self.min_distance_a)
        todo: list[tuple[int, Structure]] = []
        for i, row in enumerate(inputs):
            if row.structure is None:
                failures[row.id] = f"chgnet needs a structure and {row.id} has none"
                continue
            try:
                todo.append((i, approximant(row.structure, row.id)))
            except CandidateError as exc:
                failures[row.id] = str(exc)
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            try:
                vectors = self._predict([s for _, s in batch])
            except Exception:  # find the culprit: one at a time
                vectors = []
                for i, structure in batch:
                    try:
                        vectors.extend(self._predict([structure]))
                    except Exception as exc:
                        failures[inputs[i].id] = (
                            f"CHGNet cannot featurise {inputs[i].id} ({type(exc).__name__}: {exc})"
                        )
                        vectors.append(np.full(CRYSTAL_FEATURE_LENGTH, np.nan))
            for (i, _), vector in zip(batch, vectors, strict=True):
                X[i] = vector
        return FeatureMatrix([r.id for r in inputs], X, names, failures)


@register("chgnet")
def chgnet(**settings: Any) -> ChgnetRepresentation:
    """CHGNet crystal feature per atom."""
    return ChgnetRepresentation(**settings)
