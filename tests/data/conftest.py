"""Structures and files shared by the candidate and label reader tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pymatgen.core import Structure
from pymatgen.io.cif import CifWriter

from sseflows.data.label_sources import LabelImport, import_obelix


@pytest.fixture
def write_cif() -> Callable[[Path, Structure], Path]:
    """Write a structure as CIF at a path and return the path."""

    def _write(path: Path, structure: Structure) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        CifWriter(structure).write_file(path)
        return path

    return _write


@pytest.fixture
def bad_cif(tmp_path: Path) -> Path:
    """A file named .cif that holds no structure."""
    path = tmp_path / "broken.cif"
    path.write_text("data_broken\n_cell_length_a 3.0\nloop_\n_foo\n garbage ;; ((\n")
    return path


@pytest.fixture(scope="session")
def obelix_import(obelix_dir: Path) -> LabelImport:
    """The whole OBELiX training split, read once per session (~5 s: 254 CIFs)."""
    return import_obelix(obelix_dir)
