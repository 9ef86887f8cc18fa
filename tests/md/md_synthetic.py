"""Synthetic trajectories with a known Li diffusion coefficient (imported by the MD tests)."""

from __future__ import annotations

import numpy as np

BOX_A = 10.0
"""Edge of the cubic synthetic cell, Å."""


def random_walk(
    d_cm2_per_s: float = 1e-5,
    n_li: int = 32,
    n_frames: int = 1500,
    frame_interval_fs: float = 10.0,
    drift_a_per_frame: float = 0.05,
    wrap: bool = True,
    seed: int = 0,
    framework_noise_a: float = 0.1,
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Li random walkers (D known) in a 10 Å cube with a vibrating S framework (27 atoms).

    Each Li takes Gaussian steps of variance 2 D Δt per axis (D in Å²/fs = D[cm²/s] × 10).
    Every atom also moves by a constant drift of ``drift_a_per_frame`` Å per frame along
    (1, 1, 1)/√3, which the analysis must remove. Returns (positions, species, lattice).
    """
    rng = np.random.default_rng(seed)
    d_a2_fs = d_cm2_per_s * 10.0
    steps = rng.normal(0.0, np.sqrt(2 * d_a2_fs * frame_interval_fs), (n_frames - 1, n_li, 3))
    li0 = rng.uniform(0, BOX_A, (n_li, 3))
    li = np.concatenate([li0[None], li0[None] + np.cumsum(steps, axis=0)], axis=0)
    grid = np.stack(np.meshgrid(*[np.arange(3)] * 3, indexing="ij"), -1).reshape(-1, 3) + 0.5
    sites = grid * BOX_A / 3
    framework = sites[None] + rng.normal(0, framework_noise_a, (n_frames, len(sites), 3))
    positions = np.concatenate([li, framework], axis=1)
    drift = drift_a_per_frame * np.arange(n_frames)[:, None, None] * np.ones(3) / np.sqrt(3)
    positions = positions + drift
    if wrap:
        positions = np.mod(positions, BOX_A)
    species = ["Li"] * n_li + ["S"] * len(sites)
    return positions, species, np.eye(3) * BOX_A
