"""Convolution and pooling on images with exactly TensorFlow's numbers, plus the named kernel bank.

Pure numpy (OpenCV's ``filter2D`` is used as the inner loop when it is installed, because it is
~8x faster than any numpy formulation on a 12-megapixel photo); no streamlit, no tensorflow, so
the Filter Lab and the Shape Lab open without TensorFlow's import.

Conventions (the same as ``tf.nn.conv2d`` / ``tf.nn.max_pool2d`` / ``tf.nn.avg_pool2d``):

- "Convolution" is cross-correlation: ``out[i, j] = sum(kernel * window)``, the kernel is not
  flipped.
- ``padding`` is ``"valid"``, ``"same"`` (TensorFlow's rule: out = ceil(n / stride), the odd
  padded pixel goes bottom/right) or an int >= 0 of zero pixels added on *each* side.
- Output sizes and padding amounts come from :mod:`playground.core.shapes` (one formula everywhere).
- Every public function raises ``ValueError`` naming the offending argument.
"""
from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np

from playground.core import shapes
from playground.i18n import N_, _

Padding = Union[str, int]
IntOrPair = Union[int, Sequence[int]]

__all__ = [
    "KERNELS",
    "COURSE_EDGE",
    "COURSE_CURVE",
    "convolve",
    "pool",
    "pad",
    "receptive_field",
    "explain_pixel",
    "relu",
    "edge_magnitude",
    "normalize_kernel",
    "random_kernels",
    "toy_image",
]

# ----------------------------------------------------------------------------------------------
# The kernel bank
# ----------------------------------------------------------------------------------------------

# The course's 5x5 edge filter (divided by 23 = the sum of its positive weights): positive where
# the image gets darker from left to right, i.e. it finds vertical edges; its transpose finds
# horizontal ones.
_COURSE_EDGE_WEIGHTS = np.array([[2, 1, 0, -1, -2],
                                 [3, 2, 0, -2, -3],
                                 [4, 3, 0, -3, -4],
                                 [3, 2, 0, -2, -3],
                                 [2, 1, 0, -1, -2]], dtype=np.float32)
COURSE_EDGE = _COURSE_EDGE_WEIGHTS / np.float32(23)

# The course's 7x7 curve detector: 30 along a curve that rises to the top right, 0 elsewhere.
COURSE_CURVE = np.zeros((7, 7), dtype=np.float32)
for _r, _c in ((0, 5), (1, 4), (2, 3), (3, 3), (4, 3), (5, 3)):
    COURSE_CURVE[_r, _c] = 30.0

# The two 7x7 receptive fields of the course's curve-detector example (pixel values of the
# picture of a mouse): one lies on the back of the mouse, a curve like the filter's
# (sum = 50*30 + 20*30 + 50*30 + 50*30 + 50*30 = 6600); the other on a part without that curve
# (sum = 0).
COURSE_CURVE_FIELD_MATCH = np.array([[0, 0, 0, 0, 0, 0, 0],
                                     [0, 0, 0, 0, 50, 50, 50],
                                     [0, 0, 0, 20, 50, 0, 0],
                                     [0, 0, 0, 50, 50, 0, 0],
                                     [0, 0, 0, 50, 50, 0, 0],
                                     [0, 0, 0, 50, 50, 0, 0],
                                     [0, 0, 0, 50, 50, 0, 0]], dtype=np.float32)
COURSE_CURVE_FIELD_MISS = np.array([[0, 0, 0, 0, 0, 0, 0],
                                    [0, 40, 0, 0, 0, 0, 0],
                                    [40, 0, 40, 0, 0, 0, 0],
                                    [40, 20, 0, 0, 0, 0, 0],
                                    [0, 50, 0, 0, 0, 0, 0],
                                    [0, 0, 50, 0, 0, 0, 0],
                                    [25, 25, 0, 0, 0, 0, 0]], dtype=np.float32)


def _k(rows, scale: float = 1.0) -> np.ndarray:
    return (np.array(rows, dtype=np.float32) * np.float32(scale)).astype(np.float32)


_SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
_PREWITT_X = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]
_SCHARR_X = [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]
_BINOMIAL5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1])

KERNELS: dict[str, np.ndarray] = {
    N_("Course edge 5×5 (vertical edges)"): COURSE_EDGE,
    N_("Course edge 5×5 (horizontal edges)"): np.ascontiguousarray(COURSE_EDGE.T),
    N_("Course curve detector 7×7"): COURSE_CURVE,
    N_("Sobel x (vertical edges)"): _k(_SOBEL_X),
    N_("Sobel y (horizontal edges)"): _k(np.transpose(_SOBEL_X)),
    N_("Prewitt x (vertical edges)"): _k(_PREWITT_X),
    N_("Prewitt y (horizontal edges)"): _k(np.transpose(_PREWITT_X)),
    N_("Scharr x (vertical edges)"): _k(_SCHARR_X),
    N_("Scharr y (horizontal edges)"): _k(np.transpose(_SCHARR_X)),
    N_("Laplacian"): _k([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    N_("Outline"): _k([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    N_("Sharpen"): _k([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    N_("Box blur 3×3"): _k(np.ones((3, 3)), 1 / 9),
    N_("Gaussian blur 3×3"): _k([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
    N_("Gaussian blur 5×5"): _k(_BINOMIAL5, 1 / 256),
    N_("Emboss"): _k([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    N_("Identity"): _k([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
}
for _kernel in KERNELS.values():
    _kernel.setflags(write=False)  # shared module state: a page must copy before editing

# Pairs whose responses combine into an edge magnitude sqrt(gx² + gy²).
EDGE_PAIRS: dict[str, tuple[str, str]] = {
    N_("Course edge 5×5"): ("Course edge 5×5 (vertical edges)",
                            "Course edge 5×5 (horizontal edges)"),
    "Sobel": ("Sobel x (vertical edges)", "Sobel y (horizontal edges)"),
    "Prewitt": ("Prewitt x (vertical edges)", "Prewitt y (horizontal edges)"),
    "Scharr": ("Scharr x (vertical edges)", "Scharr y (horizontal edges)"),
}

# ----------------------------------------------------------------------------------------------
# Argument checks
# ----------------------------------------------------------------------------------------------


def _as_float_array(name: str, value, ndims: Sequence[int]) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists and the like
        raise ValueError(_("{name} must be a numeric array: {error}", name=name,
                           error=error)) from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        raise ValueError(_("{name} must be a numeric array, got dtype {dtype}", name=name,
                           dtype=array.dtype))
    if np.iscomplexobj(array):
        raise ValueError(_("{name} must be real, got dtype {dtype}", name=name,
                           dtype=array.dtype))
    if array.ndim not in ndims:
        wanted = " / ".join(f"{n}-D" for n in ndims)
        raise ValueError(_("{name} must be {wanted}, got shape {shape}", name=name,
                           wanted=wanted, shape=array.shape))
    if 0 in array.shape:
        raise ValueError(_("{name} must not be empty, got shape {shape}", name=name,
                           shape=array.shape))
    array = array.astype(np.float32, copy=False)
    # One reduction instead of an isfinite mask (a 12-megapixel photo costs ~5 ms, not ~20);
    # only a sum that overflows or is NaN needs the exact element-wise look.
    if not np.isfinite(array.sum(dtype=np.float64)) and not np.isfinite(array).all():
        raise ValueError(_("{name} must contain only finite numbers (no NaN or inf)",
                           name=name))
    return array


def _pads(h: int, w: int, kh: int, kw: int, sh: int, sw: int,
          padding: Padding) -> tuple[int, int, int, int, int, int]:
    """(out_h, out_w, top, bottom, left, right); shapes.output_size raises if it does not fit."""
    out_h = shapes.output_size(h, kh, sh, padding)
    out_w = shapes.output_size(w, kw, sw, padding)
    top, bottom = shapes.padding_amounts(h, kh, sh, padding)
    left, right = shapes.padding_amounts(w, kw, sw, padding)
    return out_h, out_w, top, bottom, left, right


def _fit_error(error: ValueError, image_shape, kernel_shape) -> ValueError:
    return ValueError(_("kernel {kernel} does not fit the image {image} with this padding "
                        "({error})", kernel=f"{kernel_shape[0]}×{kernel_shape[1]}",
                        image=f"{image_shape[0]}×{image_shape[1]}", error=error))


# ----------------------------------------------------------------------------------------------
# Convolution
# ----------------------------------------------------------------------------------------------

_cv2 = None
_cv2_checked = False


def _opencv():
    """OpenCV's module when it is installed (imported on first use: ~0.1 s), else None."""
    global _cv2, _cv2_checked
    if not _cv2_checked:
        _cv2_checked = True
        try:
            import cv2
            _cv2 = cv2
        except Exception:  # not installed, or a broken wheel: numpy does the work
            _cv2 = None
    return _cv2


def _correlate_numpy(padded: np.ndarray, kernel: np.ndarray, out_h: int, out_w: int,
                     sh: int, sw: int) -> np.ndarray:
    """Valid cross-correlation of a padded (H, W) float32 by (kh, kw), sampled at the strides.

    A sum of kernel-weighted strided views, done in bands of rows so the running sum and the
    views stay in the CPU cache (~2x faster than whole-image passes on a 12-megapixel picture).
    """
    kh, kw = kernel.shape
    out = np.zeros((out_h, out_w), dtype=np.float32)
    band = max(1, 65536 // max(out_w, 1))
    scratch = np.empty((min(band, out_h), out_w), dtype=np.float32)
    for r0 in range(0, out_h, band):
        r1 = min(out_h, r0 + band)
        acc = out[r0:r1]
        tmp = scratch[:r1 - r0]
        for a in range(kh):
            rows = slice(r0 * sh + a, (r1 - 1) * sh + a + 1, sh)
            for b in range(kw):
                weight = kernel[a, b]
                if weight == 0:
                    continue
                view = padded[rows, b:b + (out_w - 1) * sw + 1:sw]
                np.multiply(view, weight, out=tmp)
                acc += tmp
    return out


def _correlate_opencv(cv2, plane: np.ndarray, kernel: np.ndarray,
                      pads: tuple[int, int, int, int, int, int], sh: int,
                      sw: int) -> np.ndarray:
    out_h, out_w, top, bottom, left, right = pads
    kh, kw = kernel.shape
    h, w = plane.shape
    plane = np.ascontiguousarray(plane)
    # With the anchor at (left, top) and a zero border, OpenCV's dst[y, x] is
    # sum kernel[a, b] * image[y + a - top, x + b - left]: TensorFlow's window of output
    # (y / sh, x / sw) on the zero-padded image, without copying the image into a padded one.
    # That works while the anchor lies inside the kernel and every sampled row/column of dst
    # exists (always for VALID and SAME; not for an int padding wider than half the kernel).
    if top < kh and left < kw and (out_h - 1) * sh < h and (out_w - 1) * sw < w:
        anchor = (left, top)
    else:
        plane = cv2.copyMakeBorder(plane, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0)
        anchor = (0, 0)
    full = cv2.filter2D(plane, cv2.CV_32F, kernel, anchor=anchor,
                        borderType=cv2.BORDER_CONSTANT)
    if sh == 1 and sw == 1 and full.shape == (out_h, out_w):
        return full
    return full[:(out_h - 1) * sh + 1:sh, :(out_w - 1) * sw + 1:sw]


def _correlate(plane: np.ndarray, kernel: np.ndarray, stride: tuple[int, int],
               pads: tuple[int, int, int, int, int, int], backend: Optional[str]) -> np.ndarray:
    """(H, W) float32 plane, (kh, kw) kernel -> (out_h, out_w) float32 (possibly a view)."""
    out_h, out_w, top, bottom, left, right = pads
    sh, sw = stride
    cv2 = None if backend == "numpy" else _opencv()
    if backend == "opencv" and cv2 is None:
        raise ValueError("backend 'opencv' asked for, but OpenCV (cv2) is not installed")
    kernel = np.ascontiguousarray(kernel, dtype=np.float32)
    if cv2 is not None:
        return _correlate_opencv(cv2, plane, kernel, pads, sh, sw)
    if top or bottom or left or right:
        plane = np.pad(plane, ((top, bottom), (left, right)))
    return _correlate_numpy(plane, kernel, out_h, out_w, sh, sw)


def convolve(image, kernel, stride: IntOrPair = 1, padding: Padding = "valid", *,
             backend: Optional[str] = None) -> np.ndarray:
    """Cross-correlate an image with a kernel: the output of ``tf.nn.conv2d``, as float32.

    - image (H, W) with kernel (kh, kw) -> (H', W')
    - image (H, W, C) with kernel (kh, kw, C) -> (H', W'), summed over the channels
    - image (H, W, C) (or (H, W) = one channel) with kernel (kh, kw, C, F) -> (H', W', F)

    ``stride`` is an int or (sh, sw); ``padding`` "valid" / "same" / int >= 0 per side.
    H' and W' are :func:`playground.core.shapes.output_size`. ``backend`` is for tests and benches:
    None (OpenCV when installed, else numpy), "numpy" or "opencv".
    """
    if backend not in (None, "numpy", "opencv"):
        raise ValueError(f"backend must be None, 'numpy' or 'opencv', got {backend!r}")
    image = _as_float_array("image", image, (2, 3))
    kernel = _as_float_array("kernel", kernel, (2, 3, 4))
    sh, sw = shapes.as_pair("stride", stride)
    padding = shapes.normalize_padding(padding)

    if kernel.ndim == 4:
        if image.ndim == 2:
            image = image[:, :, None]
        stack = True
    else:
        stack = False
        if kernel.ndim == 2:
            if image.ndim != 2:
                raise ValueError(
                    f"kernel (kh, kw) = {kernel.shape} needs a 2-D image, got image shape "
                    f"{image.shape}; give the kernel a channel axis (kh, kw, C)")
            image = image[:, :, None]
            kernel = kernel[:, :, None]
        elif image.ndim != 3:
            raise ValueError(f"kernel (kh, kw, C) = {kernel.shape} needs an (H, W, C) image, "
                             f"got image shape {image.shape}")
        kernel = kernel[..., None]
    h, w, channels = image.shape
    kh, kw, kc, n_filters = kernel.shape
    if kc != channels:
        raise ValueError(_("kernel has {kernel_channels} input channel(s) (shape {kernel}) "
                           "but the image has {channels} (shape {image})", kernel_channels=kc,
                           kernel=kernel.shape, channels=channels, image=image.shape))
    try:
        pads = _pads(h, w, kh, kw, sh, sw, padding)
    except ValueError as error:
        raise _fit_error(error, image.shape, kernel.shape) from None

    if channels == 1 and n_filters == 1:  # the common case: no accumulation buffer, no extra pass
        out = _correlate(image[:, :, 0], kernel[:, :, 0, 0], (sh, sw), pads, backend)
        return out[:, :, None] if stack else out
    out = np.zeros((pads[0], pads[1], n_filters), dtype=np.float32)
    for c in range(channels):
        plane = image[:, :, c]
        for f in range(n_filters):
            if np.any(kernel[:, :, c, f]):
                out[:, :, f] += _correlate(plane, kernel[:, :, c, f], (sh, sw), pads, backend)
    return out if stack else out[:, :, 0]


# ----------------------------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------------------------


def _window_reduce(padded: np.ndarray, ph: int, pw: int, sh: int, sw: int, out_h: int,
                   out_w: int, op) -> np.ndarray:
    result = None
    for a in range(ph):
        for b in range(pw):
            view = padded[a:a + (out_h - 1) * sh + 1:sh, b:b + (out_w - 1) * sw + 1:sw]
            if result is None:
                result = np.array(view, dtype=np.float32)
            else:
                op(result, view, out=result)
    return result


def pool(x, size: IntOrPair = 2, stride: Optional[IntOrPair] = None, padding: Padding = "valid",
         mode: str = "max") -> np.ndarray:
    """Max / average / min pooling of x (H, W) or (H, W, C) float -> (H', W'[, C]) float32.

    The numbers of ``tf.nn.max_pool2d`` / ``tf.nn.avg_pool2d``: padded cells are ignored (never
    the max; the average divides by the real cells in the window only); min = -max(-x).
    ``stride=None`` means stride = size. With an int padding every window must still hold a real
    cell, so the padding must be smaller than the pool size.
    """
    x = _as_float_array("x", x, (2, 3))
    if not isinstance(mode, str) or mode.lower() not in ("max", "avg", "average", "mean", "min"):
        raise ValueError(f"mode must be 'max', 'avg' or 'min', got {mode!r}")
    mode = {"average": "avg", "mean": "avg"}.get(mode.lower(), mode.lower())
    ph, pw = shapes.as_pair("size", size)
    sh, sw = (ph, pw) if stride is None else shapes.as_pair("stride", stride)
    padding = shapes.normalize_padding(padding)
    if isinstance(padding, int) and padding >= min(ph, pw):
        raise ValueError(_("padding must be smaller than the pool size {size}, got {padding}",
                           size=f"{ph}×{pw}", padding=padding))
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    h, w, _channels = x.shape
    try:
        out_h, out_w, top, bottom, left, right = _pads(h, w, ph, pw, sh, sw, padding)
    except ValueError as error:
        raise ValueError(_("pool size {size} does not fit the input {input} with this "
                           "padding ({error})", size=f"{ph}×{pw}", input=f"{h}×{w}",
                           error=error)) from None
    widths = ((top, bottom), (left, right), (0, 0))
    if mode == "max":
        padded = np.pad(x, widths, constant_values=-np.inf)
        out = _window_reduce(padded, ph, pw, sh, sw, out_h, out_w, np.maximum)
    elif mode == "min":
        padded = np.pad(-x, widths, constant_values=-np.inf)
        out = -_window_reduce(padded, ph, pw, sh, sw, out_h, out_w, np.maximum)
    else:
        padded = np.pad(x, widths)
        total = _window_reduce(padded, ph, pw, sh, sw, out_h, out_w, np.add)
        real = np.pad(np.ones((h, w, 1), dtype=np.float32), widths)
        count = _window_reduce(real, ph, pw, sh, sw, out_h, out_w, np.add)
        out = total / count
    out = out.astype(np.float32, copy=False)
    return out[:, :, 0] if squeeze else out


# ----------------------------------------------------------------------------------------------
# Padding and receptive fields (the Shape Lab's sliding window, the Filter Lab's "how is this
# number made")
# ----------------------------------------------------------------------------------------------


def pad(image, kernel_size: IntOrPair, stride: IntOrPair = 1,
        padding: Padding = "valid") -> tuple[np.ndarray, np.ndarray]:
    """TensorFlow's zero padding for a conv: image (H, W[, C]) -> (padded, is_pad).

    padded: (H + top + bottom, W + left + right[, C]) float32; is_pad: (H', W') bool, True on the
    added cells. SAME puts the odd pixel bottom/right.
    """
    image = _as_float_array("image", image, (2, 3))
    kh, kw = shapes.as_pair("kernel_size", kernel_size)
    sh, sw = shapes.as_pair("stride", stride)
    padding = shapes.normalize_padding(padding)
    h, w = image.shape[:2]
    try:
        _, _, top, bottom, left, right = _pads(h, w, kh, kw, sh, sw, padding)
    except ValueError as error:
        raise _fit_error(error, image.shape, (kh, kw)) from None
    widths = ((top, bottom), (left, right)) + (((0, 0),) if image.ndim == 3 else ())
    padded = np.pad(image, widths)
    is_pad = np.ones(padded.shape[:2], dtype=bool)
    is_pad[top:top + h, left:left + w] = False
    return padded, is_pad


def receptive_field(image, kernel_size: IntOrPair, row: int, col: int, stride: IntOrPair = 1,
                    padding: Padding = "valid") -> dict:
    """The window of the padded image that output pixel (row, col) sees.

    Returns dict(top=int, left=int, patch=(kh, kw[, C]) float32, is_pad=(kh, kw) bool), with
    top/left in padded coordinates (= row * sh, col * sw).
    """
    kh, kw = shapes.as_pair("kernel_size", kernel_size)
    sh, sw = shapes.as_pair("stride", stride)
    padded, is_pad = pad(image, (kh, kw), (sh, sw), padding)
    h, w = np.shape(image)[:2]
    out_h = shapes.output_size(h, kh, sh, padding)
    out_w = shapes.output_size(w, kw, sw, padding)
    row = shapes._as_int("row", row, 0)
    col = shapes._as_int("col", col, 0)
    if row >= out_h:
        raise ValueError(_("row must be < the output height {height}, got {row}",
                           height=out_h, row=row))
    if col >= out_w:
        raise ValueError(_("col must be < the output width {width}, got {col}", width=out_w,
                           col=col))
    top, left = row * sh, col * sw
    return dict(top=top, left=left,
                patch=np.array(padded[top:top + kh, left:left + kw], dtype=np.float32),
                is_pad=np.array(is_pad[top:top + kh, left:left + kw]))


def explain_pixel(image, kernel, row: int, col: int, stride: IntOrPair = 1,
                  padding: Padding = "valid") -> dict:
    """How output pixel (row, col) of ``convolve(image, kernel, ...)`` is made.

    kernel (kh, kw) for an (H, W) image or (kh, kw, C) for an (H, W, C) image (one output map).
    Returns :func:`receptive_field`'s dict plus kernel (float32), products = patch * kernel
    (same shape) and total = products.sum() as a Python float.
    """
    kernel = _as_float_array("kernel", kernel, (2, 3))
    image_ndim = np.ndim(image)
    if kernel.ndim != image_ndim:
        raise ValueError(f"kernel shape {kernel.shape} does not match image shape "
                         f"{np.shape(image)} (2-D kernel for a 2-D image, (kh, kw, C) for "
                         f"(H, W, C))")
    if kernel.ndim == 3 and kernel.shape[2] != np.shape(image)[2]:
        raise ValueError(f"kernel has {kernel.shape[2]} channels, the image "
                         f"{np.shape(image)[2]}")
    field = receptive_field(image, kernel.shape[:2], row, col, stride, padding)
    products = field["patch"] * kernel
    field.update(kernel=kernel, products=products.astype(np.float32),
                 total=float(products.sum(dtype=np.float64)))
    return field


# ----------------------------------------------------------------------------------------------
# Small helpers for the Filter Lab
# ----------------------------------------------------------------------------------------------


def relu(x) -> np.ndarray:
    """max(x, 0) as float32, same shape."""
    return np.maximum(np.asarray(x, dtype=np.float32), np.float32(0))


def edge_magnitude(gx, gy, axis: Optional[int] = None) -> np.ndarray:
    """sqrt(gx² + gy²) of two equally shaped responses, float32, same shape; with ``axis`` the
    squares are also summed over that axis ((H, W, C) pairs -> one (H, W) magnitude)."""
    gx = np.asarray(gx, dtype=np.float32)
    gy = np.asarray(gy, dtype=np.float32)
    if gx.shape != gy.shape:
        raise ValueError(f"gx and gy must have the same shape, got {gx.shape} and {gy.shape}")
    if axis is None:
        return np.hypot(gx, gy).astype(np.float32)
    return np.sqrt(np.sum(gx * gx + gy * gy, axis=axis)).astype(np.float32)


def normalize_kernel(kernel) -> np.ndarray:
    """Scale a kernel so its weights sum to 1 (blurs keep brightness); a zero-sum kernel (edges)
    is scaled so its positive weights sum to 1 instead. All-zero kernels are returned as is."""
    kernel = _as_float_array("kernel", kernel, (2, 3, 4))
    total = float(kernel.sum(dtype=np.float64))
    if abs(total) > 1e-6 * max(float(np.abs(kernel).sum()), 1e-30):
        return (kernel / np.float32(total)).astype(np.float32)
    positive = float(kernel[kernel > 0].sum(dtype=np.float64))
    if positive == 0:
        return kernel.copy()
    return (kernel / np.float32(positive)).astype(np.float32)


def random_kernels(count: int, size: int = 3, channels: int = 1, seed: int = 0) -> np.ndarray:
    """``count`` random kernels (size, size, channels, count) float32, Glorot-uniform like Keras'
    default initialiser (limit sqrt(6 / (fan_in + fan_out)))."""
    count = shapes._as_int("count", count, 1)
    size = shapes._as_int("size", size, 1)
    channels = shapes._as_int("channels", channels, 1)
    seed = shapes._as_int("seed", seed, 0)
    limit = np.sqrt(6.0 / (size * size * channels + size * size * count))
    rng = np.random.default_rng(seed)
    return rng.uniform(-limit, limit, (size, size, channels, count)).astype(np.float32)


def toy_image(h: int, w: int) -> np.ndarray:
    """The course's toy tensors: [[1, 2, ..., w], [w + 1, ...], ...] as (h, w) float32."""
    h = shapes._as_int("h", h, 1)
    w = shapes._as_int("w", w, 1)
    return np.arange(1, h * w + 1, dtype=np.float32).reshape(h, w)
