"""Saving and loading ranking models with skops (never a bare pickle), provenance beside.

A model file ``NAME.skops`` holds the :class:`~sseflows.rank.model.RankModel`; skops only
rebuilds the types it is told to trust, and we trust exactly the estimator families the
ranking stage builds (:data:`TRUSTED_PREFIXES`): a file asking for any other type is
refused with one sentence. ``NAME.json`` beside it is the provenance in plain JSON
(labels, their hash, representation settings, estimator settings, package versions), for
people and for stores that index models without loading them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import skops.io as sio

from sseflows.core.errors import ConfigurationError
from sseflows.rank.descriptors.base import Representation
from sseflows.rank.model import RankModel

TRUSTED_PREFIXES = (
    "sseflows.rank.",
    "sklearn.",
    "lightgbm.",
    "numpy.",
    "scipy.",
    "collections.OrderedDict",
    "builtins.",
)
"""Type names a model file may contain."""


def provenance_path(path: Path) -> Path:
    """The JSON provenance file beside a model file."""
    return Path(path).with_suffix(".json")


def save_rank_model(model: RankModel, path: Path) -> Path:
    """Write ``path`` (skops) and its provenance JSON; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path)
    provenance_path(path).write_text(json.dumps(model.provenance, indent=2, default=str))
    return path


def load_rank_model(path: Path, representation: Representation | None = None) -> RankModel:
    """Load a model saved by :func:`save_rank_model`.

    Args:
        path: The ``.skops`` file.
        representation: When given, the representation the caller will rank with; a model
            built with other representation settings is refused.

    Raises:
        ConfigurationError: missing or unreadable file, an untrusted type inside, or a
            representation mismatch; one sentence each.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"The ranking model file {path} does not exist.")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # any failure to read is the same user error
        raise ConfigurationError(
            f"The ranking model file {path} is not a skops file ({exc})."
        ) from exc
    refused = [name for name in untrusted if not name.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ConfigurationError(
            f"The ranking model file {path} contains types sseflows does not build "
            f"({', '.join(refused)}); refusing to load it."
        )
    model: Any = sio.load(path, trusted=untrusted)
    if not isinstance(model, RankModel):
        raise ConfigurationError(f"The file {path} holds no sseflows ranking model.")
    if representation is not None:
        model.check_representation(representation)
    return model
