"""Keras models built from the shared network description in :mod:`playground.network`.

Imports keras (and so TensorFlow): only pages that train or inspect import this module.
"""
from __future__ import annotations

from typing import Union

import keras

from playground import network

# The course's networks (display name -> spec); the same dict the Shape Lab offers.
PRESETS = network.PRESETS


def build_model(name_or_spec: Union[str, dict]) -> keras.Model:
    """An *uncompiled* ``keras.Sequential`` for a preset name or a spec dict.

    Built from ``network.keras_layers`` so it is exactly the model ``network.keras_code``
    prints. Raises ValueError (from network.validate) for a spec that does not fit.
    """
    spec = network.preset(name_or_spec) if isinstance(name_or_spec, str) else name_or_spec
    spec = network.validate(spec)
    model = keras.Sequential([keras.Input(shape=tuple(spec["input_shape"]))],
                             name=spec.get("name", "cnn").replace(" ", "_") if isinstance(
                                 spec.get("name"), str) else "cnn")
    for group in network.keras_layers(spec):
        for cls, kwargs in group:
            model.add(getattr(keras.layers, cls)(**kwargs))
    return model
