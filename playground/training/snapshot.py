"""What the training worker streams to the page: a ``Snapshot`` of the run at one moment.

NumPy only (no TensorFlow): the server unpickles snapshots and the page reads them. A snapshot
crosses a process pipe about twice a second, so it holds plain arrays and numbers: the batch
log is one structured array (columns by name), not a list of dicts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, TypedDict

import numpy as np

from playground.i18n import _

# The batch log's columns, in the order of batches.csv.
BATCH_FIELDS = ("step", "samples_seen", "loss", "accuracy")
BATCH_DTYPE = np.dtype([("step", np.int64), ("samples_seen", np.int64),
                        ("loss", np.float32), ("accuracy", np.float32)])
EPOCH_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate",
                "seconds")
STAT_FIELDS = ("step", "layer", "w_mean_abs", "w_min", "w_max", "g_mean_abs", "g_min",
               "g_max")
PHASES = ("train", "validate", "paused", "testing", "end", "done")


class EpochRow(TypedDict):
    """One epoch's means (None where the run had no validation)."""
    epoch: float
    loss: Optional[float]
    accuracy: Optional[float]
    val_loss: Optional[float]
    val_accuracy: Optional[float]
    learning_rate: Optional[float]
    seconds: float


class LayerStat(TypedDict, total=False):
    """Weights and gradients of one layer's kernel at one step (g_* only with a fixed batch)."""
    step: int
    layer: str
    w_mean_abs: float
    w_min: float
    w_max: float
    g_mean_abs: float
    g_min: float
    g_max: float


class Activation(TypedDict):
    """The probe digit's feature maps at one conv/pool layer: ``values`` float32 (H, W, C)."""
    name: str
    type: str
    shape: tuple[int, ...]
    min: float
    max: float
    values: np.ndarray


def batch_log(rows=()) -> np.ndarray:
    """(step, samples_seen, loss, accuracy) tuples -> a structured array of BATCH_DTYPE (n,)."""
    return np.array(list(rows), dtype=BATCH_DTYPE)


@dataclass
class Snapshot:
    """The run at one moment, as the worker's ``StreamingCallback`` saw it.

    ``phase`` is one of PHASES; ``epoch`` and ``batch`` are 0-based (``batch`` -1 before the
    epoch's first batch); ``steps`` is batches per epoch (0 until training started).
    ``batch_log`` is BATCH_DTYPE (n,): every batch so far. ``conv_kernels`` maps each Conv2D's
    name to float32 (kh, kw, c_in, c_out); ``probabilities`` is the probe digit's softmax
    float32 (10,). ``status`` is the run's status.json record, in the worker's last snapshot.
    """

    t: float = 0.0
    phase: str = "train"
    epoch: int = 0
    epochs: int = 0
    batch: int = -1
    steps: int = 0
    samples_seen: int = 0
    samples_total: int = 0
    samples_per_second: float = 0.0
    eta_seconds: Optional[float] = None
    elapsed_seconds: float = 0.0
    batch_log: np.ndarray = field(default_factory=batch_log)
    epoch_log: list[EpochRow] = field(default_factory=list)
    layer_stats: list[LayerStat] = field(default_factory=list)
    learning_rate: Optional[float] = None
    conv_kernels: dict[str, np.ndarray] = field(default_factory=dict)
    activations: list[Activation] = field(default_factory=list)
    probabilities: Optional[np.ndarray] = None
    status: Optional[dict] = None
    device: str = ""  # where TensorFlow trains the run: "CPU" or "GPU" (worker.training_device)

    @property
    def started(self) -> bool:
        """True once training has begun (a snapshot with batch counts and weights)."""
        return self.steps > 0

    @property
    def fraction_done(self) -> float:
        return min(self.samples_seen / self.samples_total, 1.0) if self.samples_total else 0.0

    @property
    def last_loss(self) -> Optional[float]:
        return float(self.batch_log["loss"][-1]) if len(self.batch_log) else None

    def progress_text(self) -> str:
        """"epoch 2/5, batch 31/600" (1-based), or a line saying training has not begun."""
        if not self.started:
            return _("waiting for the first batch")
        return _("epoch {epoch}/{epochs}, batch {batch}/{batches}", epoch=self.epoch + 1,
                 epochs=self.epochs, batch=self.batch + 1, batches=self.steps)

    def eta_text(self) -> str:
        return f"{self.eta_seconds:,.0f} s" if self.eta_seconds is not None and self.started \
            else "–"

    def rate_text(self) -> str:
        rate = self.samples_per_second
        return f"{rate:,.0f}" if rate and math.isfinite(rate) else "–"


def activations_text(activations: list[Activation]) -> str:
    """"conv2d: 28×28×8, min 0, max 1.2 · ..." — one line under the feature maps."""
    return " · ".join(_("{layer}: {shape}, min {low}, max {high}", layer=a["name"],
                        shape="×".join(map(str, a["shape"])), low=f"{a['min']:.3g}",
                        high=f"{a['max']:.3g}") for a in activations)
