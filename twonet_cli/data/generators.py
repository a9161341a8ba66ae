"""Built-in datasets, like TensorFlow Playground's: seeded generators of x (N, d) and targets."""

from __future__ import annotations

import math

import numpy as np

from ..config.schema import DataConfig
from ..core.activations import Array
from ..core.metrics import Task
from ..errors import ConfigError, InputError

# name: (features, task); classification generators give integer labels 0..classes−1
GENERATORS: dict[str, tuple[int, Task]] = {
    "sine": (1, "regression"),
    "surface": (2, "regression"),
    "xor": (2, "classification"),
    "circles": (2, "classification"),
    "moons": (2, "classification"),
    "blobs": (2, "classification"),
    "spiral": (2, "classification"),
}


def outputs(task: Task, loss: str, classes: int, targets: int) -> int:
    """K the data tells: its target columns (regression), else its classes — one output for two
    classes, except with cross-entropy."""
    if task == "regression" or not classes:
        return targets
    return classes if loss == "cross_entropy" or classes > 2 else 1


def data_sizes(dc: DataConfig, loss: str) -> tuple[int, int]:
    """(n, K) of a generator's rows, without drawing them."""
    if dc.source not in GENERATORS:
        raise ConfigError(f"data.source: {dc.source!r} is neither a generator ({', '.join(GENERATORS)}) "
                         "nor a .csv/.npy/.npz file")
    n, kind = GENERATORS[dc.source]
    classes = (dc.classes if dc.source in ("blobs", "spiral") else 2) if kind == "classification" else 0
    task: Task = dc.task if dc.task != "auto" else kind
    return n, outputs(task, loss, classes if task == "classification" else 0, 1)


def generate(name: str, n: int, noise: float, rng: np.random.Generator, classes: int = 2) -> tuple[Array, Array]:
    """x (n, d) and y: (n,) real targets for regression, integer labels for classification."""
    match name:
        case "sine":  # y = sin(x) on [−π, π]
            x = rng.uniform(-math.pi, math.pi, size=(n, 1))
            return x, np.sin(x[:, 0]) + noise * rng.normal(size=n)
        case "surface":  # y = sin(x₁)·cos(x₂) on [−2, 2]²
            x = rng.uniform(-2, 2, size=(n, 2))
            return x, np.sin(x[:, 0]) * np.cos(x[:, 1]) + noise * rng.normal(size=n)
        case "xor":  # the sign of x₁·x₂, away from the axes as in TensorFlow Playground
            x = rng.uniform(-1, 1, size=(n, 2))
            x += np.sign(x) * 0.1
            label = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
            return x + noise * rng.normal(size=x.shape), label
        case "circles":  # a disc of radius 0.5 inside a ring from 0.7 to 1
            label = rng.integers(0, 2, size=n)
            r = np.where(label == 1, rng.uniform(0, 0.5, n), rng.uniform(0.7, 1.0, n))
            t = rng.uniform(0, 2 * math.pi, n)
            x = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
            return x + noise * rng.normal(size=x.shape), label
        case "moons":  # two interleaving half circles
            label = rng.integers(0, 2, size=n)
            t = rng.uniform(0, math.pi, n)
            x = np.where(label[:, None] == 0, np.stack([np.cos(t), np.sin(t)], 1),
                         np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1))
            return x + noise * rng.normal(size=x.shape), label
        case "blobs":  # `classes` gaussian clusters on a circle of radius 2
            label = rng.integers(0, classes, size=n)
            angle = 2 * math.pi * label / classes
            centres = 2 * np.stack([np.cos(angle), np.sin(angle)], 1)
            return centres + max(noise, 1e-12) * rng.normal(size=(n, 2)), label
        case "spiral":  # `classes` arms, as in CS231n's spiral data
            label = rng.integers(0, classes, size=n)
            r = rng.uniform(0.05, 1, n)
            t = 4 * r + 2 * math.pi * label / classes + noise * rng.normal(size=n)
            return np.stack([r * np.sin(t), r * np.cos(t)], 1), label
    raise InputError(f"data.source: unknown generator {name!r}")


