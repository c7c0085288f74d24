"""Loading a model file safely: Keras' safe mode, size limits, and a check that it can be shown.

keras is imported inside the functions, so importing this module (for ``ModelError`` and the
limits) does not start TensorFlow.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from typing import TYPE_CHECKING, Any

from playground.core import runs
from playground.core.shapes import shape_text
from playground.inspector.preprocess import INPUT_SHAPE, NUM_CLASSES

if TYPE_CHECKING:
    import keras

# The course's largest net with its optimizer state is ~10 MB; leave room, refuse the absurd.
MAX_MODEL_BYTES = 20 * 1024 * 1024
# A .keras file is a zip: refuse archives that inflate far beyond any model we could show.
MAX_MODEL_UNZIPPED_BYTES = 200 * 1024 * 1024


class ModelError(ValueError):
    """A model file the inspector cannot use; ``str(err)`` is a one-line message for the user."""


def _short(err: BaseException, limit: int = 160) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_model(model: Any) -> "keras.Model":
    """Return ``model`` if the inspector can show it, else raise ModelError saying why.

    Shown: a keras.Model with one 28×28×1 input, one (10,) output, and layers that each give
    one tensor; a forward pass on a blank digit must work.
    """
    import keras
    import numpy as np

    from playground.core.network import model_layers
    from playground.inspector.explain import layer_outputs
    if not isinstance(model, keras.Model):
        raise ModelError(f"the file holds a {type(model).__name__}, not a Keras model")
    if len(model.inputs) != 1:
        raise ModelError(f"the model has {len(model.inputs)} inputs; the inspector shows "
                         "models with one 28×28×1 image input")
    shape = tuple(model.inputs[0].shape[1:])
    if shape != INPUT_SHAPE:
        raise ModelError(f"the model's input is {shape_text(shape)}, not 28×28×1: the inspector "
                         "feeds it 28×28 grayscale MNIST digits")
    if len(model.outputs) != 1 or tuple(model.outputs[0].shape[1:]) != (NUM_CLASSES,):
        shapes = ", ".join(str(tuple(o.shape[1:])) for o in model.outputs)
        raise ModelError(f"the model outputs {shapes}; the inspector shows digit classifiers "
                         "with 10 class probabilities")
    for layer in model_layers(model):
        if not keras.backend.is_keras_tensor(getattr(layer, "output", None)):
            raise ModelError(f"layer {layer.name!r} does not give one tensor; the inspector "
                             "shows models whose layers each have a single output")
    try:
        layer_outputs(model, np.zeros(INPUT_SHAPE[:2], np.float32))
    except Exception as err:  # noqa: BLE001 - any failure here means "cannot show"
        raise ModelError(f"the model fails on a 28×28×1 input: {_short(err)}") from None
    return model


def load_model_file(path) -> keras.Model:
    """Load a .keras file in Keras' safe mode (no code from the file runs) and check it.

    Raises ModelError with a one-line message: Lambda layers (arbitrary Python) are refused,
    files that are not Keras models or that the inspector cannot show are explained.
    """
    import keras

    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise ModelError("this file is not a Keras model: a .keras file is a zip archive "
                         "saved by model.save('name.keras')") from None
    if "config.json" not in names:
        raise ModelError("this file is not a Keras model: the archive has no config.json "
                         "(save the model with model.save('name.keras'))")
    if unzipped > MAX_MODEL_UNZIPPED_BYTES:
        raise ModelError(f"the model unpacks to {unzipped / 1e6:.0f} MB; the limit is "
                         f"{MAX_MODEL_UNZIPPED_BYTES / 1e6:.0f} MB")
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # noqa: BLE001 - Keras raises many types for a bad file
        text = str(err)
        if "Lambda" in text or "safe_mode" in text:
            raise ModelError("refused: the model contains a Lambda layer, i.e. arbitrary Python "
                             "code; the inspector loads models in Keras' safe mode and never "
                             "runs code from a file") from None
        if "Could not locate" in text or "custom" in text.lower():
            raise ModelError("the model uses a custom layer or function that is not part of "
                             f"Keras, so it cannot be loaded safely: {_short(err)}") from None
        raise ModelError(f"Keras could not load this model: {_short(err)}") from None
    return check_model(model)


def load_model_bytes(data: bytes) -> keras.Model:
    """An uploaded .keras file (bytes) -> checked keras.Model, loaded in safe mode.

    The bytes go to a fresh temporary file whose name has nothing to do with the upload's name
    (deleted afterwards). Raises ModelError for an empty or oversized upload and every reason
    ``load_model_file`` gives.
    """
    if not data:
        raise ModelError("the file is empty")
    if len(data) > MAX_MODEL_BYTES:
        raise ModelError(f"the model file is {len(data) / 1e6:.1f} MB; the limit is "
                         f"{MAX_MODEL_BYTES / 1e6:.0f} MB")
    if not data.startswith(b"PK\x03\x04"):
        raise ModelError("this file is not a Keras model: a .keras file is a zip archive "
                         "saved by model.save('name.keras')")
    fd, tmp = tempfile.mkstemp(prefix="inspector-upload-", suffix=".keras")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return load_model_file(tmp)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def run_model_path(run_id: str):
    """Path of a saved run's model.keras (ValueError for a malformed id: no paths from URLs)."""
    return runs.run_path(run_id) / "model.keras"


def load_run_model(run_id: str) -> keras.Model:
    """The checked model of a saved run; ModelError if it is missing or cannot be shown."""
    try:
        path = run_model_path(run_id)
    except ValueError as err:
        raise ModelError(str(err)) from None
    if not path.is_file():
        raise ModelError(f"run {run_id} has no saved model")
    return load_model_file(path)
