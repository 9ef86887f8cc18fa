"""Fixtures of the MD tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from md_synthetic import random_walk


@pytest.fixture
def make_walk() -> Callable[..., tuple[np.ndarray, list[str], np.ndarray]]:
    """The :func:`random_walk` generator."""
    return random_walk
