"""The small pretrained MNIST model that ships with the playground.

``playground/assets/pretrained_mnist.keras`` is the default network ("Fast MNIST CNN") trained
with its own recipe by ``scripts/train_pretrained.py`` (fixed seed); the JSON beside it says
how it was made and what it scored (``pretrained_info``). The Model Inspector shows it when no
run or upload is chosen, and the course's lessons use it, so a first visit shows a trained
network before anyone trains.

Public API (stable names; the course imports them):

    pretrained_available() -> bool
    pretrained_info() -> dict      spec, preset, recipe, seed, test_accuracy (on the 10,000
                                   test digits), command, size_bytes, sha256, class_names, ...
    pretrained_model() -> keras.Model   loaded once per process, shared: use it for inference
                                   only (call ``load_pretrained()`` for a copy of your own)
    load_pretrained() -> keras.Model    a fresh copy

Models take float32 (N, 28, 28, 1) in [0, 1] (``mnist.to_float``) and give softmax
probabilities float32 (N, 10), one per digit 0..9. TensorFlow is imported only by the two
functions that load the model.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parent.parent / "assets"
MODEL_PATH = ASSETS / "pretrained_mnist.keras"
INFO_PATH = ASSETS / "pretrained_mnist.json"
REPRODUCE = "python scripts/train_pretrained.py"


class PretrainedUnavailable(RuntimeError):
    """The shipped model or its metadata is missing or unreadable (message: one line)."""


def pretrained_available() -> bool:
    """Whether the model file and its metadata are both there."""
    return MODEL_PATH.is_file() and INFO_PATH.is_file()


@functools.lru_cache(maxsize=1)
def _info() -> dict[str, Any]:
    try:
        info = json.loads(INFO_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PretrainedUnavailable(f"the pretrained model is not there: {REPRODUCE} "
                                    "makes it") from None
    except (OSError, ValueError) as err:
        raise PretrainedUnavailable(f"the pretrained model's metadata cannot be read: "
                                    f"{err}") from None
    if not isinstance(info, dict) or not {"spec", "test_accuracy", "seed"} <= set(info):
        raise PretrainedUnavailable("the pretrained model's metadata is incomplete: "
                                    f"{REPRODUCE} writes it again")
    return info


def pretrained_info() -> dict[str, Any]:
    """The metadata written beside the model (a copy: callers may edit it).

    Keys: file, preset, spec (the network description), dataset ("mnist"), class_names,
    recipe, seed, train_examples, test_examples, test_accuracy (float in [0, 1], on all
    10,000 test digits), parameters, size_bytes, sha256, command, training_seconds,
    tensorflow, keras. Raises PretrainedUnavailable when it is missing or unreadable.
    """
    return json.loads(json.dumps(_info()))


def load_pretrained():
    """A fresh keras.Model loaded from the shipped file through the inspector's safe loader
    (description checked, Keras' safe mode, uncompiled). Raises PretrainedUnavailable."""
    from playground.inspector import loading

    if not MODEL_PATH.is_file():
        raise PretrainedUnavailable(f"the pretrained model is not there: {REPRODUCE} "
                                    "makes it")
    try:
        return loading.load_model_file(MODEL_PATH)
    except loading.ModelError as err:
        raise PretrainedUnavailable(f"the pretrained model cannot be loaded: {err}") from None


@functools.lru_cache(maxsize=1)
def pretrained_model():
    """The shipped model, loaded once per process and shared (inference only: do not compile
    or train it; ``load_pretrained()`` gives a copy of your own)."""
    return load_pretrained()
