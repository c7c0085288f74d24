"""A run's replay history: the filters, the probe's activations and probabilities at regular
points of training, kept on disk so the Training page can scrub and play them back.

The worker's snapshots go through a ``Recorder`` (a sink in front of the page's sink): every
``every`` batches (about 100 frames over the whole run, and the last one) it writes the snapshot
it passes on as one frame, ``runs/<id>/replay/<step>.npz`` (np.savez_compressed, weights and
activations as float16, probabilities float32). A frame is therefore exactly a snapshot the live
view showed, at float16 precision. Scrubbing reads one small file.

Bounded: at most ``MAX_FRAMES`` frames and ``MAX_BYTES`` of float16 arrays per run (before
compression; the files are smaller). When either would be passed, every other frame is dropped
(the first and the newest kept) and frames are taken half as often from then on. Runs trained
before histories were kept have no ``replay/`` folder: ``frame_steps`` is empty and the page says
so. NumPy only: no TensorFlow, no streamlit.
"""
from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from playground.core import runs
from playground.training.snapshot import Activation, Snapshot

FOLDER = "replay"
TARGET_FRAMES = 100            # frames over a whole run, before thinning
MAX_FRAMES = 160               # never more than this many frames per run ...
MAX_BYTES = 24 * 2**20         # ... nor more than 24 MiB of float16 arrays (uncompressed)
_NAME = re.compile(r"^(\d{9})\.npz$")


@dataclass
class Frame:
    """One moment of a run: ``step`` batches done (0 = before the first), ``samples_seen``,
    ``epoch`` (0-based), ``phase``; ``conv_kernels`` {Conv2D name: float32 (kh, kw, c_in,
    c_out)}, ``activations`` as Snapshot's (values float32 (H, W, C)), ``probabilities``
    float32 (K,) or None. Arrays come back from float16 as float32."""

    step: int
    samples_seen: int
    epoch: int
    phase: str
    conv_kernels: dict[str, np.ndarray] = field(default_factory=dict)
    activations: list[Activation] = field(default_factory=list)
    probabilities: Optional[np.ndarray] = None


def folder_of(run_folder: Path) -> Path:
    return Path(run_folder) / FOLDER


def frame_bytes(snap: Snapshot) -> int:
    """Bytes of one frame's float16 arrays (+ float32 probabilities)."""
    n = sum(k.size for k in snap.conv_kernels.values())
    n += sum(np.asarray(a["values"]).size for a in snap.activations)
    return 2 * n + (4 * snap.probabilities.size if snap.probabilities is not None else 0)


def encode(snap: Snapshot) -> bytes:
    """A snapshot as one compressed .npz (no pickles)."""
    meta = dict(step=len(snap.batch_log), samples_seen=int(snap.samples_seen),
                epoch=int(snap.epoch), phase=str(snap.phase),
                kernels=list(snap.conv_kernels),
                activations=[dict(name=a["name"], type=a["type"], shape=list(a["shape"]),
                                  min=float(a["min"]), max=float(a["max"]))
                             for a in snap.activations])
    arrays = {"meta": np.array(json.dumps(meta))}
    for i, kernel in enumerate(snap.conv_kernels.values()):
        arrays[f"k{i}"] = np.asarray(kernel, np.float16)
    for i, act in enumerate(snap.activations):
        arrays[f"a{i}"] = np.asarray(act["values"], np.float16)
    if snap.probabilities is not None:
        arrays["p"] = np.asarray(snap.probabilities, np.float32)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def decode(data) -> Frame:
    """The inverse of ``encode`` (``data``: bytes or a path)."""
    source = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    with np.load(source, allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"]))
        kernels = {name: npz[f"k{i}"].astype(np.float32)
                   for i, name in enumerate(meta["kernels"])}
        acts = [Activation(name=a["name"], type=a["type"], shape=tuple(a["shape"]),
                           min=a["min"], max=a["max"], values=npz[f"a{i}"].astype(np.float32))
                for i, a in enumerate(meta["activations"])]
        probs = npz["p"].astype(np.float32) if "p" in npz.files else None
    return Frame(step=meta["step"], samples_seen=meta["samples_seen"], epoch=meta["epoch"],
                 phase=meta["phase"], conv_kernels=kernels, activations=acts,
                 probabilities=probs)


class Recorder:
    """A sink that keeps frames of a run's snapshots in ``run_folder/replay/`` and passes every
    snapshot on to ``sink``.

    ``every``: batches between frames (default: the run's total batches / TARGET_FRAMES, at
    least 1). Writing never stops training: a disk error switches the recorder off.
    """

    def __init__(self, run_folder: Path, sink: Optional[Callable[[Snapshot], None]] = None,
                 every: Optional[int] = None, max_frames: int = MAX_FRAMES,
                 max_bytes: int = MAX_BYTES):
        self.folder = folder_of(run_folder)
        self.sink = sink
        self.every = every
        self.max_frames, self.max_bytes = int(max_frames), int(max_bytes)
        self.steps: list[int] = []
        self.frame_size = 0
        self.failed = False

    def __call__(self, snap: Snapshot) -> None:
        self.record(snap)
        if self.sink is not None:
            self.sink(snap)

    @property
    def limit(self) -> int:
        """Frames allowed for this run (by count and by bytes; at least 2)."""
        by_bytes = self.max_bytes // self.frame_size if self.frame_size else self.max_frames
        return max(2, min(self.max_frames, by_bytes))

    def record(self, snap: Snapshot) -> bool:
        """Write ``snap`` as a frame when one is due. True when it was written."""
        if self.failed or not snap.started or snap.phase in ("testing", "done"):
            return False
        step = len(snap.batch_log)
        if self.every is None:
            self.every = max(1, math.ceil(snap.steps * max(snap.epochs, 1) / TARGET_FRAMES))
        last = self.steps[-1] if self.steps else None
        if last is not None and step - last < self.every and not (
                snap.phase == "end" and step != last):
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            runs.atomic_write_bytes(self.folder / f"{step:09d}.npz", encode(snap))
        except OSError:
            self.failed = True
            return False
        self.frame_size = max(self.frame_size, frame_bytes(snap))
        self.steps.append(step)
        while len(self.steps) > self.limit:
            self._thin()
        return True

    def _thin(self) -> None:
        """Drop every other frame (keep the first and the newest); frames half as often."""
        keep = self.steps[::2]
        if keep[-1] != self.steps[-1]:
            keep.append(self.steps[-1])
        for step in set(self.steps) - set(keep):
            (self.folder / f"{step:09d}.npz").unlink(missing_ok=True)
        self.steps = keep
        self.every *= 2


def frame_steps(run_folder: Path) -> list[int]:
    """The steps a run's history holds, in order ([] for a run without one)."""
    try:
        names = [entry.name for entry in folder_of(run_folder).iterdir()]
    except OSError:
        return []
    return sorted(int(m.group(1)) for m in map(_NAME.match, names) if m)


def load_frame(run_folder: Path, step: int) -> Optional[Frame]:
    """The frame at ``step``, or None when it is gone (thinned out meanwhile) or unreadable."""
    path = folder_of(run_folder) / f"{int(step):09d}.npz"
    try:
        return decode(path)
    except (OSError, ValueError, KeyError):
        return None


def history_bytes(run_folder: Path) -> int:
    """Bytes the run's history takes on disk."""
    try:
        return sum(p.stat().st_size for p in folder_of(run_folder).glob("*.npz"))
    except OSError:
        return 0
