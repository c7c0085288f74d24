"""The one TensorFlow oracle of the test suite: what TensorFlow itself computes.

Every test that checks a number the playground shows against TensorFlow calls these functions
(as micrograd's tests compute the same value with PyTorch). They run TensorFlow's reference
kernels: conftest sets ``TF_ENABLE_ONEDNN_OPTS=0`` before TensorFlow is imported, because the
oneDNN kernels answer a window that does not fit its padded input with uninitialised memory.

Padding is given as the playground gives it: ``"valid"``, ``"same"`` or an int of zero pixels
per side.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def tf_padding(padding):
    """The playground's padding -> tf.nn's: "VALID", "SAME" or explicit NHWC pairs."""
    if isinstance(padding, int):
        return [[0, 0], [padding, padding], [padding, padding], [0, 0]]
    return padding.upper()


def refuses(run) -> bool:
    """Whether TensorFlow refuses ``run()``: an error, or an output with no rows or columns."""
    try:
        out = run()
    except (tf.errors.InvalidArgumentError, ValueError):
        return True
    return min(out.shape[1:3]) <= 0


def conv_nhwc(x, kernel_hw, strides, padding, dilation=1, weights=None):
    """TensorFlow's convolution of NHWC ``x`` -> an NHWC tensor.

    ``weights`` (kh, kw, C, F) defaults to ones with one output channel. tf.nn.conv2d documents
    strides > 1 with dilation > 1 as unsupported, so those cases go through
    tf.image.extract_patches (explicit padding: tf.pad first, then VALID).
    """
    x = tf.convert_to_tensor(x, tf.float32)
    kh, kw = kernel_hw
    sh, sw = strides
    if weights is None:
        weights = tf.ones([kh, kw, x.shape[-1], 1])
    weights = tf.convert_to_tensor(weights, tf.float32)
    if dilation == 1 or (sh, sw) == (1, 1):
        return tf.nn.conv2d(x, weights, strides=[1, sh, sw, 1], padding=tf_padding(padding),
                            dilations=[1, dilation, dilation, 1])
    mode = padding
    if isinstance(padding, int):
        x = tf.pad(x, tf_padding(padding))
        mode = "valid"
    patches = tf.image.extract_patches(x, sizes=[1, kh, kw, 1], strides=[1, sh, sw, 1],
                                       rates=[1, dilation, dilation, 1], padding=mode.upper())
    flat = tf.reshape(weights, [-1, weights.shape[-1]])
    return tf.einsum("bhwk,ko->bhwo", patches, flat)


def conv(image, kernel, stride, padding) -> np.ndarray:
    """image (H, W[, C]), kernel (kh, kw[, C[, F]]) -> tf.nn.conv2d's output as float32,
    (H', W') for a 2-D or 3-D kernel, (H', W', F) for a 4-D one."""
    image = np.asarray(image, np.float32)
    kernel = np.asarray(kernel, np.float32)
    x = image[None, :, :, None] if image.ndim == 2 else image[None]
    k4 = kernel.reshape(kernel.shape[:2] + (x.shape[-1], -1))
    out = tf.nn.conv2d(x, k4, strides=stride, padding=tf_padding(padding)).numpy()[0]
    return out if kernel.ndim == 4 else out[:, :, 0]


def pool_nhwc(x, size, strides, padding, kind):
    """tf.nn.max_pool2d / avg_pool2d of NHWC ``x`` (``strides`` None: the window's size)."""
    strides = size if strides is None else strides
    op = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    return op(x, ksize=[1, *size, 1], strides=[1, *strides, 1], padding=tf_padding(padding))


def pool(x, size, stride, padding, mode) -> np.ndarray:
    """x (H, W[, C]) pooled by TensorFlow, same rank out. ``mode``: "max", "avg" or "min"
    (the max pool of -x, negated). Average pooling with explicit padding divides by the real
    cells only, as the playground does."""
    x = np.asarray(x, np.float32)
    x4 = x[None, :, :, None] if x.ndim == 2 else x[None]
    stride = size if stride is None else stride
    if mode == "max":
        out = tf.nn.max_pool2d(x4, size, stride, tf_padding(padding))
    elif mode == "min":
        out = -tf.nn.max_pool2d(-x4, size, stride, tf_padding(padding))
    elif isinstance(padding, int):
        # tf.nn.avg_pool2d takes only VALID/SAME: the average over real cells is the pooled sum
        # of the zero-padded input over the pooled count of real cells, both computed by TF.
        widths = tf_padding(padding)
        total = tf.nn.avg_pool2d(tf.pad(x4, widths), size, stride, "VALID")
        count = tf.nn.avg_pool2d(tf.pad(tf.ones_like(x4), widths), size, stride, "VALID")
        out = total / count
    else:
        out = tf.nn.avg_pool2d(x4, size, stride, padding.upper())
    out = np.asarray(out)[0]
    return out[:, :, 0] if x.ndim == 2 else out


def conv_gradients(x, kernel, bias, target, stride, padding, loss="sum", learning_rate=0.01):
    """One conv layer's forward pass, loss, gradients and SGD step by ``tf.GradientTape`` and
    Keras' SGD. x (H, W), kernel (kh, kw), target (H', W'); ``loss`` "sum" (½·Σ(Y − T)²) or
    "mean" (Keras' MeanSquaredError). Returns a dict of float32 NumPy arrays / floats: output,
    loss, grad_output, grad_kernel, grad_input, grad_bias, new_kernel, new_bias, new_loss."""
    import keras

    x4 = tf.Variable(np.asarray(x, np.float32)[None, :, :, None])
    w4 = tf.Variable(np.asarray(kernel, np.float32)[:, :, None, None])
    b1 = tf.Variable(np.asarray([bias], np.float32))
    t4 = tf.constant(np.asarray(target, np.float32)[None, :, :, None])

    def run():
        y = tf.nn.conv2d(x4, w4, strides=stride, padding=padding.upper()) + b1
        if loss == "sum":
            value = 0.5 * tf.reduce_sum(tf.square(y - t4))
        else:
            value = keras.losses.MeanSquaredError()(tf.reshape(t4, [1, -1]),
                                                    tf.reshape(y, [1, -1]))
        return y, value

    with tf.GradientTape() as tape:
        y, value = run()
    grad_y, grad_x, grad_w, grad_b = tape.gradient(value, [y, x4, w4, b1])
    keras.optimizers.SGD(learning_rate=learning_rate).apply_gradients(
        [(grad_w, w4), (grad_b, b1)])
    new_y, new_value = run()
    return dict(output=y.numpy()[0, :, :, 0], loss=float(value),
                grad_output=grad_y.numpy()[0, :, :, 0], grad_kernel=grad_w.numpy()[:, :, 0, 0],
                grad_input=grad_x.numpy()[0, :, :, 0], grad_bias=float(grad_b.numpy()[0]),
                new_kernel=w4.numpy()[:, :, 0, 0], new_bias=float(b1.numpy()[0]),
                new_output=new_y.numpy()[0, :, :, 0], new_loss=float(new_value))


def conv_transpose(image, kernel, stride, padding, output_shape) -> np.ndarray:
    """``tf.nn.conv2d_transpose`` of a (H, W) float32 image with a (kh, kw) kernel (one input
    channel, one filter) to ``output_shape`` = (H', W') -> (H', W') float32; padding
    "valid" / "same"."""
    x = tf.constant(np.asarray(image, np.float32)[None, :, :, None])
    k = tf.constant(np.asarray(kernel, np.float32)[:, :, None, None])
    out = tf.nn.conv2d_transpose(x, k, (1, *output_shape, 1), stride, padding.upper())
    return out.numpy()[0, :, :, 0]
