"""The Filter Lab's pipeline: picture -> colour handling -> filters -> ReLU -> pooling.

Pure numpy on top of :mod:`playground.core.filters` (no streamlit, no tensorflow). The page collects
the settings into a :class:`LabSettings`, calls :func:`run` on the working-resolution picture to
show everything, and :func:`full_resolution_png` on the full picture for the download.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import numpy as np

from playground.core import filters, shapes
from playground.datasets import images
from playground.i18n import N_, _

Padding = Union[str, int]

# Values that travel in links; marked with N_ and translated with _ where shown.
GRAY = N_("Grayscale")
EACH_RGB = N_("Each RGB channel on its own")
RGB_SUM = N_("RGB: one 3-channel filter (sums over channels)")
CHANNELS = {N_("Red channel"): 0, N_("Green channel"): 1, N_("Blue channel"): 2}
COLOUR_MODES = (GRAY, "Red channel", "Green channel", "Blue channel", EACH_RGB, RGB_SUM)
POOL_MODES = ("none", "max", "avg", "min")
CUSTOM = N_("Custom kernel")
MAX_CUSTOM_SIDE = 9


@dataclass(frozen=True)
class LabSettings:
    """Everything the user chose. ``kernels`` are names from ``filters.KERNELS`` or CUSTOM."""

    kernels: tuple[str, ...] = ("Course edge 5×5 (vertical edges)",)
    custom: Optional[tuple[tuple[float, ...], ...]] = None
    normalize: bool = False  # scale the custom kernel (only) with filters.normalize_kernel
    stride: int = 1
    padding: Padding = "same"
    colour: str = GRAY
    relu: bool = True
    pool_mode: str = "max"
    pool_size: int = 2
    pool_stride: Optional[int] = None
    pool_padding: Padding = "valid"

    def __post_init__(self):
        if not self.kernels:
            raise ValueError(_("kernels: pick at least one filter"))
        for name in self.kernels:
            if name != CUSTOM and name not in filters.KERNELS:
                raise ValueError(_("kernels: unknown filter {name}", name=repr(name)))
        if CUSTOM in self.kernels and self.custom is None:
            raise ValueError(_("custom: the custom kernel has no values"))
        if self.colour not in COLOUR_MODES:
            raise ValueError(f"colour must be one of {COLOUR_MODES}, got {self.colour!r}")
        if self.pool_mode not in POOL_MODES:
            raise ValueError(f"pool_mode must be one of {POOL_MODES}, got {self.pool_mode!r}")
        shapes.as_pair("stride", self.stride)
        shapes.normalize_padding(self.padding)


@dataclass
class LabResult:
    """What the page shows. F = number of feature maps.

    - ``input``: (H, W) float32 for one plane, (H, W, 3) for the RGB modes, in [0, 255]
    - ``names``: F labels; ``kernels``: F kernels as applied ((kh, kw) or (kh, kw, 3))
    - ``planes``: per map, the channel of ``input`` it reads (None = all of ``input``)
    - ``response``: (H', W', F) float32, signed; ``activated``: ReLU of it (or the same array)
    - ``pooled``: (H'', W'', F) float32 or None
    - ``magnitude``: edge-pair name -> (H', W') sqrt(gx² + gy²) for pairs among the filters
    - ``filter_names``: one per chosen filter; ``groups``: per filter, its map indices
    """

    settings: LabSettings
    input: np.ndarray
    names: list[str]
    kernels: list[np.ndarray]
    planes: list[Optional[int]]
    response: np.ndarray
    activated: np.ndarray
    pooled: Optional[np.ndarray]
    magnitude: dict[str, np.ndarray] = field(default_factory=dict)
    filter_names: list[str] = field(default_factory=list)
    groups: list[list[int]] = field(default_factory=list)

    @property
    def final(self) -> np.ndarray:
        """The last stage computed: pooled, else activated. (h, w, F) float32."""
        return self.pooled if self.pooled is not None else self.activated

    STAGES = ("response", "activated", "pooled")

    def picture(self, stage: str, filter_index: int = 0) -> Optional[np.ndarray]:
        """One filter's result at a stage: (h, w), or (h, w, 3) in the each-RGB-channel mode;
        None for "pooled" without pooling."""
        if stage not in self.STAGES:
            raise ValueError(f"stage must be one of {self.STAGES}, got {stage!r}")
        values = getattr(self, stage)
        if values is None:
            return None
        group = self.groups[filter_index]
        return values[:, :, group[0]] if len(group) == 1 else values[:, :, group]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Shape of every stage: input (H, W[, C]), response/activated (H', W', F), pooled."""
        out = {"input": tuple(self.input.shape), "response": tuple(self.response.shape),
               "activated": tuple(self.activated.shape)}
        if self.pooled is not None:
            out["pooled"] = tuple(self.pooled.shape)
        return out

    def value_at(self, map_index: int, row: int, col: int) -> float:
        return float(self.response[row, col, map_index])

    def window(self, map_index: int, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of output (row, col)'s receptive field in input pixel
        coordinates (bottom/right exclusive; may reach into the padding, i.e. < 0 or > size)."""
        kh, kw = self.kernels[map_index].shape[:2]
        h, w = self.input.shape[:2]
        sh, sw = shapes.as_pair("stride", self.settings.stride)
        pad_top, _pad_bottom = shapes.padding_amounts(h, kh, sh, self.settings.padding)
        pad_left, _pad_right = shapes.padding_amounts(w, kw, sw, self.settings.padding)
        top, left = row * sh - pad_top, col * sw - pad_left
        return top, left, top + kh, left + kw

    def explain(self, map_index: int, row: int, col: int) -> dict:
        """``filters.explain_pixel`` for output (row, col) of map ``map_index``."""
        if not 0 <= map_index < len(self.names):
            raise ValueError(f"map_index must be in 0..{len(self.names) - 1}, got {map_index}")
        plane = self.planes[map_index]
        image = self.input if plane is None else self.input[:, :, plane]
        s = self.settings
        return filters.explain_pixel(image, self.kernels[map_index], row, col, s.stride,
                                     s.padding)


def custom_kernel(rows: Sequence[Sequence]) -> np.ndarray:
    """Rows of numbers from the kernel editor -> (kh, kw) float32; empty cells count as 0.

    Raises ValueError for a ragged grid, non-numbers or a side outside 1..9.
    """
    if hasattr(rows, "to_numpy"):  # st.data_editor may hand back a DataFrame
        rows = rows.to_numpy().tolist()
    if rows is None or len(rows) == 0:
        raise ValueError(_("custom kernel: it has no rows"))
    cleaned = []
    for r, row in enumerate(rows):
        values = []
        for c, value in enumerate(row):
            if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
                values.append(0.0)
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(_("custom kernel: cell ({row}, {col}) is not a number: "
                                   "{value}", row=r + 1, col=c + 1, value=repr(value))) from None
            if not np.isfinite(number):
                raise ValueError(_("custom kernel: cell ({row}, {col}) is not finite",
                                   row=r + 1, col=c + 1))
            values.append(number)
        cleaned.append(values)
    widths = {len(row) for row in cleaned}
    if len(widths) != 1:
        raise ValueError(_("custom kernel: every row must have the same number of cells"))
    kernel = np.array(cleaned, dtype=np.float32)
    if not (1 <= kernel.shape[0] <= MAX_CUSTOM_SIDE and 1 <= kernel.shape[1] <= MAX_CUSTOM_SIDE):
        raise ValueError(_("custom kernel: each side must be 1..{limit}, got {size}",
                           limit=MAX_CUSTOM_SIDE, size=f"{kernel.shape[0]}×{kernel.shape[1]}"))
    return kernel


def kernel_rows(kernel) -> list[list[float]]:
    """(kh, kw) kernel -> rows of Python floats (for the editor and for query params)."""
    return [[float(v) for v in row] for row in np.asarray(kernel, dtype=np.float32)]


def resize_rows(rows: Optional[Sequence[Sequence]], height: int, width: int) -> list[list[float]]:
    """Keep the editor's values while its size changes: crop or pad with zeros."""
    height = shapes._as_int("height", height, 1)
    width = shapes._as_int("width", width, 1)
    old = [list(row) for row in rows] if rows else []
    out = []
    for r in range(height):
        source = old[r] if r < len(old) else []
        out.append([float(source[c]) if c < len(source) and source[c] is not None else 0.0
                    for c in range(width)])
    return out


def base_kernel(name: str, settings: LabSettings) -> np.ndarray:
    """(kh, kw) float32 for a filter name (normalised when the settings say so)."""
    if name != CUSTOM:
        return np.array(filters.KERNELS[name], dtype=np.float32)
    kernel = custom_kernel(settings.custom)
    return filters.normalize_kernel(kernel) if settings.normalize else kernel


def colour_input(rgb: np.ndarray, colour: str) -> np.ndarray:
    """(H, W, 3) uint8 or float32 in [0, 255] -> what the filters see: (H, W) float32 for one
    plane; the (H, W, 3) picture itself (not copied) for the RGB modes."""
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    if colour == GRAY:
        return images.to_gray(rgb)
    if colour in CHANNELS:
        return rgb[:, :, CHANNELS[colour]].astype(np.float32)
    return rgb


def keeps_brightness(kernel) -> bool:
    """True for kernels whose weights sum to about 1 per channel (blur, sharpen, identity): their
    response is a picture on the input's [0, 255] scale."""
    kernel = np.asarray(kernel, dtype=np.float64)
    total = kernel.sum() / (kernel.shape[2] if kernel.ndim == 3 else 1)
    return 0.5 <= total <= 2.0


def embed(kernel: np.ndarray, height: int, width: int) -> np.ndarray:
    """(kh, kw) kernel centred in a zero (height, width) one (the odd cell bottom/right)."""
    kh, kw = kernel.shape
    out = np.zeros((height, width), dtype=np.float32)
    top, left = (height - kh) // 2, (width - kw) // 2
    out[top:top + kh, left:left + kw] = kernel
    return out


def layer_kernels(settings: LabSettings) -> list[np.ndarray]:
    """The chosen kernels as ONE conv layer holds them: all of the largest size, smaller ones
    centred in zeros (a 3×3 Sobel inside a 7×7 gives the same numbers, only aligned), so every
    feature map has the same H'×W' whatever the padding."""
    kernels = [base_kernel(name, settings) for name in settings.kernels]
    height = max(k.shape[0] for k in kernels)
    width = max(k.shape[1] for k in kernels)
    return [k if k.shape == (height, width) else embed(k, height, width) for k in kernels]


def run(rgb: np.ndarray, settings: LabSettings) -> LabResult:
    """Run the whole pipeline on an (H, W, 3) float32 picture in [0, 255]."""
    x = colour_input(rgb, settings.colour)
    names, kernels, planes, maps, groups = [], [], [], [], []
    for name, kernel in zip(settings.kernels, layer_kernels(settings)):
        group = []
        if settings.colour == EACH_RGB:
            for c, letter in enumerate("RGB"):
                group.append(len(names))
                names.append(f"{name} · {letter}")
                kernels.append(kernel)
                planes.append(c)
                maps.append(filters.convolve(x[:, :, c], kernel, settings.stride,
                                             settings.padding))
        else:
            if settings.colour == RGB_SUM:
                # = convolve(x, kernel repeated to (kh, kw, 3)), one channel at a time so a
                # full-resolution uint8 photo is never converted to float32 whole.
                response = sum(filters.convolve(x[:, :, c], kernel, settings.stride,
                                                settings.padding) for c in range(3))
                kernel = np.repeat(kernel[:, :, None], 3, axis=2)
            else:
                response = filters.convolve(x, kernel, settings.stride, settings.padding)
            group.append(len(names))
            names.append(name)
            kernels.append(kernel)
            planes.append(None)
            maps.append(response)
        groups.append(group)
    response = np.stack(maps, axis=2)
    activated = filters.relu(response) if settings.relu else response
    pooled = None
    if settings.pool_mode != "none":
        pooled = filters.pool(activated, settings.pool_size, settings.pool_stride,
                              settings.pool_padding, settings.pool_mode)
    magnitude = {}
    for pair, (gx_name, gy_name) in filters.EDGE_PAIRS.items():
        if gx_name in settings.kernels and gy_name in settings.kernels:
            # Each RGB channel on its own: one magnitude over the three channels' pairs.
            gx = groups[settings.kernels.index(gx_name)]
            gy = groups[settings.kernels.index(gy_name)]
            magnitude[pair] = filters.edge_magnitude(response[:, :, gx], response[:, :, gy],
                                                     axis=2)
    return LabResult(settings=settings, input=x, names=names, kernels=kernels, planes=planes,
                     response=response, activated=activated, pooled=pooled, magnitude=magnitude,
                     filter_names=list(settings.kernels), groups=groups)


def full_resolution_png(rgb: np.ndarray, settings: LabSettings, filter_index: int = 0) -> bytes:
    """PNG of the last stage of one chosen filter, computed on the full-resolution picture
    (pass ``Picture.pixels``, (H, W, 3) uint8: it is converted one plane at a time).

    One plane -> grayscale PNG (signed responses: 0 is mid-grey); "each RGB channel" -> an RGB
    PNG of the three channel results.
    """
    # The filter as the layer holds it (centred in the largest kernel's size), so the download
    # has exactly the shape of the map on screen.
    layer = layer_kernels(settings)[filter_index]
    one = dataclasses.replace(settings, kernels=(CUSTOM,), normalize=False,
                              custom=tuple(map(tuple, kernel_rows(layer))))
    result = run(rgb, one)
    final = result.final
    if keeps_brightness(layer):
        # Blur, sharpen, emboss: the result is a picture on the input's scale; clip, as photo
        # editors do, rather than stretch.
        pixels = np.clip(np.rint(final), 0, 255).astype(np.uint8)
        return images.to_png(pixels if pixels.shape[2] == 3 else pixels[:, :, 0])
    signed = bool((final < 0).any())
    if final.shape[2] == 3:
        return images.to_png(final, signed=signed)
    return images.to_png(final[:, :, 0], signed=signed)


def formula(explained: dict, max_terms: int = 12) -> str:
    """"50·30 + 20·30 + ... = 6600" from an explain_pixel dict: the non-zero products, the
    largest first when there are more than max_terms."""
    patch = np.asarray(explained["patch"], dtype=np.float64).ravel()
    kernel = np.asarray(explained["kernel"], dtype=np.float64).ravel()
    products = patch * kernel
    order = [i for i in range(products.size) if products[i] != 0]
    total = explained["total"]
    if not order:
        return _("every product is 0, so the sum is {total}", total=_num(total))
    shown = order
    if len(order) > max_terms:
        shown = sorted(sorted(order, key=lambda i: -abs(products[i]))[:max_terms])
    terms = " + ".join(f"({_num(patch[i])}·{_num(kernel[i])})" for i in shown)
    rest = (" + … " + _("({count} more)", count=len(order) - len(shown))
            if len(shown) < len(order) else "")
    return f"{terms}{rest} = {_num(total)}"


def symbolic(patch) -> str:
    """"1·w1 + 2·w2 + 4·w3 + 5·w4" for a (kh, kw) patch (weights numbered row by row)."""
    values = np.asarray(patch, dtype=np.float64).ravel()
    return " + ".join(f"{_num(v)}·w{i + 1}" if v != 1 else f"w{i + 1}"
                      for i, v in enumerate(values) if v != 0) or "0"


def _num(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e9 else f"{value:.4g}"


def mnist_maps(digit, seed: int, count: int = 5, size: int = 3, stride: int = 2,
               padding: Padding = "same") -> dict:
    """The course's MNIST example: a 28×28 uint8 digit scaled to [0, 1] (as the network sees it)
    convolved with ``count`` random size×size filters -> dict(digit (28, 28) float32,
    kernels (size, size, 1, count), maps (14, 14, count) for stride 2 SAME)."""
    digit = np.asarray(digit, dtype=np.float32) / np.float32(255)
    if digit.ndim != 2:
        raise ValueError(f"digit must be (28, 28), got shape {digit.shape}")
    kernels = filters.random_kernels(count, size, 1, seed)
    return dict(digit=digit, kernels=kernels,
                maps=filters.convolve(digit, kernels, stride, padding))


def kernel_tiles(kernels: np.ndarray) -> np.ndarray:
    """(kh, kw, 1, F) -> (kh, kw, F) for a stack figure."""
    return np.asarray(kernels)[:, :, 0, :]


def toy_rows(h: int, w: int) -> list[list[float]]:
    """The course's [1..h*w] toy tensor as rows for an editor."""
    return kernel_rows(filters.toy_image(h, w))


def matrix(rows) -> np.ndarray:
    """Rows from an editor -> float32 matrix (any size), ValueError on bad cells."""
    if hasattr(rows, "to_numpy"):
        rows = rows.to_numpy().tolist()
    try:
        array = np.array(rows, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(_("every cell must be a number")) from None
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(_("the matrix must be a non-empty grid of numbers"))
    if not np.isfinite(array).all():
        raise ValueError(_("every cell must be a finite number"))
    return array


def filter_bank(weights: Sequence[float], size: int = 2) -> np.ndarray:
    """Constant size×size filters with the given weights -> (size, size, 1, N) (the course's
    1 / 10 / −1 example)."""
    return np.stack([np.full((size, size), float(w), dtype=np.float32) for w in weights],
                    axis=-1)[:, :, None, :]
