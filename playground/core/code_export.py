"""TensorFlow 1 code written from a network spec (``tf1_code``), as the course writes its
networks; :func:`playground.core.code.network_from_code` reads it back to the same spec. Pure:
nothing here runs code."""
from __future__ import annotations

import math

from playground.core import network


def tf1_code(spec: dict) -> str:
    """TensorFlow 1 code, as the course writes its networks, that builds ``spec``'s layers:
    ``tf.nn.conv2d`` / ``max_pool`` / ``dropout``, ``tf.matmul`` on flattened tensors. What
    TensorFlow 1's ``tf.nn`` cannot say (explicit padding, initializers or regularizers, Dense on
    an H×W×C tensor, the newer layers) is written as the Keras layer applied to the tensor."""
    spec = network.validate(spec)
    h, w, c = spec["input_shape"]
    lines = ["import tensorflow.compat.v1 as tf  # TensorFlow 1's API, kept in TensorFlow 2",
             "from tensorflow import keras", "", "tf.disable_v2_behavior()",
             f"X = tf.placeholder(tf.float32, [None, {h * w * c}])",
             f"L0 = tf.reshape(X, [-1, {h}, {w}, {c}])"]
    shape: tuple = (h, w, c)
    groups = network.keras_layers(spec)
    for i, (layer, group) in enumerate(zip(spec["layers"], groups), start=1):
        prev, out = f"L{i - 1}", f"L{i}"
        kind = layer["type"]
        plain = not any(layer.get(k) is not None for k in network.LAYER_OPTIONS)
        if kind == "Conv2D" and plain and isinstance(layer["padding"], str):
            kh, kw = (layer["kernel_size"],) * 2 if isinstance(layer["kernel_size"], int) \
                else layer["kernel_size"]
            sh, sw = (layer["strides"],) * 2 if isinstance(layer["strides"], int) \
                else layer["strides"]
            dilation = "" if layer["dilation"] == 1 else \
                f", dilations=[1, {_nhwc(layer['dilation'])}, 1]"
            lines += ["", f"W{i} = tf.Variable(tf.random_normal([{kh}, {kw}, {shape[-1]}, "
                      f"{layer['filters']}], stddev=0.01))",
                      f"b{i} = tf.Variable(tf.random_normal([{layer['filters']}]))",
                      f"{out} = tf.nn.conv2d({prev}, W{i}, strides=[1, {sh}, {sw}, 1], "
                      f"padding='{layer['padding'].upper()}'{dilation}) + b{i}"]
        elif kind in ("MaxPool2D", "AveragePool2D"):
            op = "max_pool" if kind == "MaxPool2D" else "avg_pool"
            strides = layer["strides"] if layer["strides"] is not None else layer["pool_size"]
            lines.append(f"{out} = tf.nn.{op}({prev}, ksize=[1, {_nhwc(layer['pool_size'])}, 1],"
                         f" strides=[1, {_nhwc(strides)}, 1], "
                         f"padding='{layer['padding'].upper()}')")
        elif kind == "Flatten" and len(shape) > 1:  # (a reshape of a flat tensor is no layer)
            lines.append(f"{out} = tf.reshape({prev}, [-1, {math.prod(shape)}])")
        elif kind == "Dense" and plain and len(shape) == 1:
            lines += ["", f'W{i} = tf.get_variable("W{i}", shape=[{shape[0]}, {layer["units"]}],'
                      " initializer=tf.glorot_uniform_initializer())",
                      f"b{i} = tf.Variable(tf.random_normal([{layer['units']}]))",
                      f"{out} = tf.matmul({prev}, W{i}) + b{i}"]
        elif kind == "Dropout":
            lines.append(f"{out} = tf.nn.dropout({prev}, rate={layer['rate']!r})")
        elif kind == "ReLU":
            lines.append(f"{out} = tf.nn.relu({prev})")
        else:
            for cls, kwargs in group:
                if kind in ("Conv2D", "Dense"):  # its activation follows as tf.nn.<name>
                    kwargs = {k: v for k, v in kwargs.items() if k != "activation"}
                args = ", ".join(network._code_arg(k, v) for k, v in kwargs.items())
                lines.append(f"{out} = keras.layers.{cls}({args})({prev})")
                prev = out
        if kind in ("Conv2D", "Dense") and layer["activation"]:
            lines.append(f"{out} = tf.nn.{layer['activation']}({out})")
        shape, _params = network.layer_output(layer, shape)
    lines.append(f"logits = L{len(spec['layers'])}")
    return "\n".join(lines) + "\n"


def _nhwc(value) -> str:
    """An int or [h, w] as the middle of TensorFlow's [1, h, w, 1] lists."""
    pair = value if isinstance(value, list) else [value, value]
    return f"{pair[0]}, {pair[1]}"
