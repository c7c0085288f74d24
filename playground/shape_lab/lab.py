"""What the Shape Lab page says, computed outside the page: formulas with the user's numbers,
the fit report, the sliding window's numbers, and the network table's rows.

Pure Python + numpy, no streamlit and no tensorflow. Shapes come from
:mod:`playground.core.shapes`; every number in the sliding window comes from
:mod:`playground.core.filters` (one convolution and one pooling implementation in the project,
both tested against TensorFlow).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import numpy as np
import pandas as pd

from playground.core import filters, network, shapes
from playground.core import layers as modern_layers
from playground.i18n import N_, _
from playground.shape_lab import settings as shape_settings

AXES = ("height", "width")
CONV_KINDS = ("conv", "depthwise", "separable")   # a kernel slides with stride over the input
AXIS_TITLES = {"height": N_("Height"), "width": N_("Width")}
# Above this padded size the window picture is not drawn (a 40×40 grid is already dense).
MAX_DRAWN = 40
# Numbers are written in the cells for inputs up to this size.
MAX_NUMBERED = 12
# The play animation gets one frame per output cell up to this many cells.
MAX_FRAMES = 100


def _num(value: float) -> str:
    """3.0 -> '3', 2.5 -> '2.5', 0.333333 -> '0.33', -0.0 -> '0'."""
    value = float(value)
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0")


@dataclass
class LayerReport:
    """Everything section 1 and 2 of the page show for one layer."""

    kind: str
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    axes: tuple[shapes.AxisReport, shapes.AxisReport]
    padding: Any
    formulas: list[str]
    params_text: str
    params: int
    fit: list[str]
    notes: list[str] = field(default_factory=list)


def _settings_ints(settings: Mapping[str, Any]) -> dict:
    return {k: settings[k] for k in ("h", "w", "c", "kh", "kw", "filters", "sh", "sw", "pad",
                                     "dilation")}


def layer_report(settings: Mapping[str, Any]) -> LayerReport:
    """The one-layer report; raises ValueError (naming the setting) when the layer is impossible."""
    if settings["kind"] == "transposed":
        from playground.shape_lab import transposed  # it builds on this module's classes

        return transposed.layer_report(settings)
    if settings["kind"] in ("depthwise", "separable"):
        from playground.shape_lab import depthwise  # it builds on this module's classes

        return depthwise.layer_report(settings)
    s = _settings_ints(settings)
    kind = settings["kind"]
    padding = shape_settings.padding_value(settings)
    input_shape = (s["h"], s["w"], s["c"])
    notes = []
    if kind == "conv":
        output_shape = shapes.conv_output_shape(input_shape, s["filters"], (s["kh"], s["kw"]),
                                                (s["sh"], s["sw"]), padding, s["dilation"])
        dilation = s["dilation"]
    else:
        output_shape = shapes.pool_output_shape(input_shape, (s["kh"], s["kw"]),
                                                (s["sh"], s["sw"]), padding)
        dilation = 1
        if s["dilation"] != 1:
            notes.append(_("Pooling has no dilation: the dilation setting is ignored."))
    axes = tuple(shapes.axis_report(n, f, st, padding, dilation) for n, f, st in
                 ((s["h"], s["kh"], s["sh"]), (s["w"], s["kw"], s["sw"])))
    if kind == "conv":
        params = shapes.conv_param_count((s["kh"], s["kw"]), s["c"], s["filters"])
        weights = params - s["filters"]
        numbers = dict(kh=s["kh"], kw=s["kw"], c=s["c"], filters=s["filters"],
                       weights=f"{weights:,}", biases=f"{s['filters']:,}", params=f"{params:,}")
        params_text = (_("{kh}×{kw}×{c}×{filters} = {weights} weights + {biases} bias = "
                         "{params} parameters", **numbers) if s["filters"] == 1 else
                       _("{kh}×{kw}×{c}×{filters} = {weights} weights + {biases} biases = "
                         "{params} parameters", **numbers))
    else:
        params = 0
        params_text = (_("0 parameters: pooling has no weights, it only takes the maximum of "
                         "each window.") if kind == "max" else
                       _("0 parameters: pooling has no weights, it only takes the average of "
                         "each window."))
    return sliding_report(kind, input_shape, output_shape, axes, padding, params, params_text,
                          notes)


def sliding_report(kind: str, input_shape, output_shape, axes, padding, params: int,
                   params_text: str, notes: list[str]) -> LayerReport:
    """A LayerReport for a window that slides with the convolution's formula: each axis' formula
    and whether the windows fit, written from ``axes`` (shapes.AxisReport, height then width)."""
    return LayerReport(kind=kind, input_shape=input_shape, output_shape=output_shape,
                       axes=axes, padding=padding,
                       formulas=[axis_formula(name, a, padding) for name, a in zip(AXES, axes)],
                       params_text=params_text, params=params,
                       fit=[line for name, a in zip(AXES, axes) if (line := fit_text(name, a))],
                       notes=notes)


# The argument names in playground.core.shapes' messages -> the labels of the page's inputs.
# The labels are the page's own (pages/shape_lab.py), translated where explain() uses them.
_LABELS = (
    ("input_shape[0] (height)", N_("Input height H")),
    ("input_shape[1] (width)", N_("Input width W")),
    ("input_shape[2] (channels)", N_("Channels C")), ("input_shape[0]", N_("Input height H")),
    ("input_shape[1]", N_("Input width W")), ("kernel_size[0]", N_("Kernel height")),
    ("kernel_size[1]", N_("Kernel width")), ("pool_size[0]", N_("Pool height")),
    ("pool_size[1]", N_("Pool width")), ("strides[0]", N_("Stride (rows)")),
    ("strides[1]", N_("Stride (columns)")), ("dilation[0]", N_("Dilation D")),
    ("dilation[1]", N_("Dilation D")), ("dilation", N_("Dilation D")),
    ("filters", N_("Filters")), ("in_channels", N_("Channels C")), ("padding", N_("Padding")),
    ("depth_multiplier", N_("Depth multiplier M")),
)


def explain(error: ValueError) -> str:
    """A shapes ValueError as one sentence naming the page's input, e.g.
    'Stride (rows) must be >= 1, got 0.' (the message is already in the session's language:
    core raises it through ``_``, with the argument's name first in both languages)."""
    text = str(error)
    for name, label in _LABELS:
        if text.startswith(name):
            text = _(label) + text[len(name):]
            if name.startswith("pool_size"):  # shapes says "kernel" for any window
                kernel, window = _("kernel"), _("pool window")
                text = text.replace(f": {kernel} ", f": {window} ", 1)
            break
    return text.rstrip(".") + "."


def axis_formula(name: str, a: shapes.AxisReport, padding) -> str:
    """One markdown line: the output-size formula with this axis' numbers substituted."""
    f_text = str(a.kernel)
    prefix = f"**{_(AXIS_TITLES[name])}:** "
    if a.dilation > 1:
        prefix += _("dilated kernel {formula}; ", formula=(
            f"`F = ({a.kernel} − 1)·{a.dilation} + 1 = {a.effective_kernel}`"))
        f_text = str(a.effective_kernel)
    if padding == "same":
        total = a.pad_before + a.pad_after
        return (prefix + _("SAME keeps {keeps}; it pads {pads} pixels: **{before} before, "
                           "{after} after**",
                           keeps=f"`⌈N / S⌉ = ⌈{a.n} / {a.stride}⌉ = {a.out}`",
                           pads=f"`max(({a.out} − 1)·{a.stride} + {a.effective_kernel} − "
                                f"{a.n}, 0) = {total}`",
                           before=a.pad_before, after=a.pad_after)
                + (_(" (the odd pixel goes after, as in TensorFlow)") if total % 2 else ""))
    p = 0 if padding == "valid" else padding
    top = a.n - a.effective_kernel + 2 * p
    if top % a.stride == 0:
        return (prefix + f"`(N − F + 2P) / S + 1 = ({a.n} − {f_text} + 2·{p}) / {a.stride}"
                f" + 1 = {top} / {a.stride} + 1 = {a.out}`")
    return (prefix + f"`⌊(N − F + 2P) / S⌋ + 1 = ⌊({a.n} − {f_text} + 2·{p}) / {a.stride}⌋"
            f" + 1 = ⌊{top} / {a.stride}⌋ + 1 = {a.out}` "
            + _("({division} is not whole: TensorFlow rounds down)",
                division=f"{top} / {a.stride} = {_num(top / a.stride)}"))


def fit_text(name: str, a: shapes.AxisReport) -> Optional[str]:
    """None when the windows cover the padded axis exactly; else which cells stay unused."""
    if a.unused == 0:
        return None
    first = a.used  # padded coordinates, 0-based
    numbers = dict(out=a.out, size=a.effective_kernel, stride=a.stride, used=a.used,
                   padded=a.padded, first=first, last=a.padded - 1,
                   span=a.padded - a.effective_kernel, remainder=a.remainder)
    # Whole sentences per case (rows / columns, one cell / several): Korean words them apart.
    if name == "height":
        text = (_("**Height does not fit:** the {out} windows of size {size} with stride "
                  "{stride} reach {used} of the {padded} padded rows, so row {first} "
                  "(counting from 0 in the padded input) is never used.", **numbers)
                if a.unused == 1 else
                _("**Height does not fit:** the {out} windows of size {size} with stride "
                  "{stride} reach {used} of the {padded} padded rows, so rows {first}–{last} "
                  "(counting from 0 in the padded input) are never used.", **numbers))
    else:
        text = (_("**Width does not fit:** the {out} windows of size {size} with stride "
                  "{stride} reach {used} of the {padded} padded columns, so column {first} "
                  "(counting from 0 in the padded input) is never used.", **numbers)
                if a.unused == 1 else
                _("**Width does not fit:** the {out} windows of size {size} with stride "
                  "{stride} reach {used} of the {padded} padded columns, so columns "
                  "{first}–{last} (counting from 0 in the padded input) are never used.",
                  **numbers))
    return text + " " + _("(N − F + 2P) = {span} is not a multiple of S = {stride} "
                          "(remainder {remainder}).", **numbers)


def output_text(shape: tuple[int, ...]) -> str:
    return " × ".join(str(v) for v in shape)


# --- the sliding window ------------------------------------------------------------------------
def demo_image(settings: Mapping[str, Any]) -> np.ndarray:
    """(H, W) float32 demo input: the course's counting image 1..H·W, or seeded digits 0..9."""
    h, w = settings["h"], settings["w"]
    if settings["image"] == "random":
        return np.random.default_rng(0).integers(0, 10, (h, w)).astype(np.float32)
    return filters.toy_image(h, w)


def demo_kernel(settings: Mapping[str, Any]) -> np.ndarray:
    """(kh, kw) float32 demo kernel: ones (the course's), or seeded integers −1..1."""
    kh, kw = settings["kh"], settings["kw"]
    if settings["weights"] == "random":
        return np.random.default_rng(1).integers(-1, 2, (kh, kw)).astype(np.float32)
    return np.ones((kh, kw), dtype=np.float32)


def dilate(kernel: np.ndarray, dilation: int) -> np.ndarray:
    """(kh, kw) -> ((kh−1)·d+1, (kw−1)·d+1) float32, the weights d apart with zeros between.

    Convolving with it is exactly a dilated convolution (TensorFlow's SAME padding depends
    only on that span)."""
    kh, kw = kernel.shape
    out = np.zeros(((kh - 1) * dilation + 1, (kw - 1) * dilation + 1), dtype=np.float32)
    out[::dilation, ::dilation] = kernel
    return out


@dataclass
class Window:
    """The demo computation: padded input, output grid, and one output cell explained.

    Everything :func:`playground.charts.shape_lab.window_figure` draws (its ``SlidingWindow``).
    """

    kind: str                 # "conv", "max" or "avg"
    padded: np.ndarray        # (Hp, Wp) float32
    is_pad: np.ndarray        # (Hp, Wp) bool
    output: np.ndarray        # (H', W') float32
    kernel: np.ndarray        # (kh, kw) float32 (conv only)
    row: int
    col: int
    top: int
    left: int
    taps: list[tuple[int, int]]   # padded (r, c) of the cells the window reads
    value: float
    equation: str
    numbered: bool
    used: tuple[int, int]     # padded rows / cols reached by some window
    stride: tuple[int, int]
    dilation: int
    pads: tuple[int, int, int, int]   # top, bottom, left, right

    @property
    def pad_label(self) -> str:
        """Written in padding cells: zeros for a convolution; pooling skips them."""
        return "0" if self.kind in CONV_KINDS else "–"

    @property
    def titles(self) -> list[str]:
        """One caption per output cell (row-major) for the play animation."""
        return frame_titles(self)


def window(settings: Mapping[str, Any], report: LayerReport, pos: int) -> Window:
    """The demo input through the layer, and output cell number ``pos`` (row-major, clamped)."""
    if report.kind == "transposed":
        from playground.shape_lab import transposed

        return transposed.window(settings, report, pos)
    image = demo_image(settings)
    kh, kw = settings["kh"], settings["kw"]
    stride = (settings["sh"], settings["sw"])
    out_h, out_w = report.output_shape[:2]
    pos = min(max(int(pos), 0), out_h * out_w - 1)
    row, col = divmod(pos, out_w)
    numbered = settings["h"] <= MAX_NUMBERED and settings["w"] <= MAX_NUMBERED
    if report.kind in CONV_KINDS:   # depthwise, separable: their depthwise step, one channel
        d = report.axes[0].dilation
        kernel = demo_kernel(settings)
        span = dilate(kernel, d)
        output = filters.convolve(image, span, stride, report.padding)
        explained = filters.explain_pixel(image, span, row, col, stride, report.padding)
        padded, is_pad = filters.pad(image, span.shape, stride, report.padding)
        taps = [(explained["top"] + i * d, explained["left"] + j * d)
                for i in range(kh) for j in range(kw)]
        terms = [f"{_num(padded[r, c])}×{_num(k)}" for (r, c), k in zip(taps, kernel.ravel())]
        value = float(output[row, col])
        equation = _join(terms, " + ") + f" = {_num(value)}"
    else:
        kernel = np.ones((kh, kw), dtype=np.float32)
        output = filters.pool(image, (kh, kw), stride, report.padding, report.kind)
        field_ = filters.receptive_field(image, (kh, kw), row, col, stride, report.padding)
        padded, is_pad = filters.pad(image, (kh, kw), stride, report.padding)
        taps = [(field_["top"] + i, field_["left"] + j) for i in range(kh) for j in range(kw)]
        real = [_num(padded[r, c]) for r, c in taps if not is_pad[r, c]]
        value = float(output[row, col])
        skipped = len(taps) - len(real)
        tail = "" if not skipped else " " + (
            _("(the {count} padded cells are ignored)", count=skipped) if skipped > 1
            else _("(the 1 padded cell is ignored)"))
        if report.kind == "max":
            equation = f"max({_join(real, ', ')}) = {_num(value)}{tail}"
        else:
            equation = f"({_join(real, ' + ')}) / {len(real)} = {_num(value)}{tail}"
        explained = field_
    a_h, a_w = report.axes
    return Window(kind=report.kind, padded=padded, is_pad=is_pad, output=output, kernel=kernel,
                  row=row, col=col, top=explained["top"], left=explained["left"], taps=taps,
                  value=value, equation=equation, numbered=numbered, used=(a_h.used, a_w.used),
                  stride=stride, dilation=a_h.dilation,
                  pads=(a_h.pad_before, a_h.pad_after, a_w.pad_before, a_w.pad_after))


def kernel_text(kernel: np.ndarray) -> str:
    """(kh, kw) -> '[1 0 −1; 2 0 −2]' (rows separated by ';')."""
    return "[" + "; ".join(" ".join(_num(v) for v in row) for row in kernel) + "]"


def figure_height(padded_rows: int) -> int:
    """Pixels for the window figure: about 34 px per padded row, within 300–640."""
    return int(min(max(110 + 34 * padded_rows, 300), 640))


def frame_titles(win: Window) -> list[str]:
    """One caption per output cell (row-major) for the play animation."""
    oh, ow = win.output.shape
    title = _("output row {row}, column {col} = {value}")
    return [title.format(row=k // ow, col=k % ow, value=_num(win.output[k // ow, k % ow]))
            for k in range(oh * ow)]


def _join(terms: list[str], sep: str, limit: int = 36) -> str:
    if len(terms) <= limit:
        return sep.join(terms)
    return sep.join(terms[:limit // 2]) + f"{sep}…{sep}" + sep.join(terms[-3:])


# --- the network table -------------------------------------------------------------------------
# The Keras chapter's options come last, after the shape columns (the table stays readable).
OPTION_COLUMNS = network.LAYER_OPTIONS
EDITOR_COLUMNS = ("type", "filters", "size", "stride", "padding", "dilation",
                  "depth_multiplier", "units", "activation", "rate") + OPTION_COLUMNS
_TEXT_COLUMNS = ("size", "stride", "padding", "dilation", "activation") + OPTION_COLUMNS
# What an option cell of a Conv2D or Dense row says when the layer has Keras' default.
OPTION_DEFAULT_TEXT = {key: network.option_text(network.OPTION_DEFAULTS[key]) or "none"
                       for key in OPTION_COLUMNS}
# The choices each option column offers (the course's among them), besides any in the table.
_INITIALIZER_CHOICES = tuple(network.INITIALIZERS) + tuple(network.option_text(value) for value in (
    {"class": "RandomNormal", "stddev": 0.01}, {"class": "RandomNormal", "stddev": 0.1},
    {"class": "Constant", "value": 0.1}, {"class": "Constant", "value": 2.0}))
_REGULARIZER_CHOICES = ("none",) + tuple(network.option_text(value) for value in (
    {"l1": 0.001}, {"l1": 0.01}, {"l2": 0.001}, {"l2": 0.01}, {"l1": 0.001, "l2": 0.001}))
_PAIR = re.compile(r"^\s*(\d+)\s*(?:[x×*,]\s*(\d+))?\s*$", re.IGNORECASE)


def _pair_text(value) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return "×".join(str(v) for v in value)
    return str(value)


def spec_to_rows(spec: Mapping) -> list[dict]:
    """Spec layers -> editor rows (one dict per layer, the columns of EDITOR_COLUMNS)."""
    rows = []
    for layer in spec.get("layers", []):
        if not isinstance(layer, dict):
            continue
        kind = modern_layers.canonical(layer.get("type"))
        kind = kind if isinstance(kind, str) else None  # a hand-made link's [] is no kind
        # A missing field means network's default (links leave defaults out).
        layer = {**network.LAYER_DEFAULTS.get(kind, {}), **layer}
        row = dict.fromkeys(EDITOR_COLUMNS)
        row.update(dict.fromkeys(_TEXT_COLUMNS, ""))
        row["type"] = kind
        if kind == "Conv2D":
            row.update(filters=layer.get("filters"), size=_pair_text(layer.get("kernel_size")),
                       stride=_pair_text(layer.get("strides") or 1),
                       padding=str(layer.get("padding", "valid")),
                       dilation=_pair_text(layer.get("dilation") or 1),
                       activation=layer.get("activation") or "none")
        elif kind in ("MaxPool2D", "AveragePool2D"):
            row.update(size=_pair_text(layer.get("pool_size")),
                       stride=_pair_text(layer.get("strides")) or "",
                       padding=str(layer.get("padding", "valid")))
        elif kind == "Dense":
            row.update(units=layer.get("units"), activation=layer.get("activation") or "none")
        elif kind == "Dropout":
            row.update(rate=layer.get("rate"))
        elif kind in modern_layers.CONV_KINDS:  # Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
            row.update(filters=layer.get("filters"), size=_pair_text(layer.get("kernel_size")),
                       stride=_pair_text(layer.get("strides") or 1),
                       padding=str(layer.get("padding", "same")),
                       depth_multiplier=layer.get("depth_multiplier"),
                       activation=layer.get("activation") or "none")
        if kind in network.OPTION_LAYERS:
            row.update({key: network.option_text(layer.get(key)) or OPTION_DEFAULT_TEXT[key]
                        for key in OPTION_COLUMNS})
        rows.append(row)
    return rows


def option_choices(frame: pd.DataFrame) -> dict[str, list[str]]:
    """For each option column, the texts its selectbox offers: the fixed choices, then any
    other text already in the column (a link's RandomNormal(stddev=0.05) stays selectable)."""
    choices = {}
    for key in OPTION_COLUMNS:
        fixed = _INITIALIZER_CHOICES if key.endswith("_initializer") else _REGULARIZER_CHOICES
        extra = [text for text in frame[key].dropna().unique()
                 if text and text not in fixed] if key in frame else []
        choices[key] = list(fixed) + sorted(str(text) for text in extra)
    return choices


def _blank(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, float) and math.isnan(value)


def _parse_pair(value):
    """'3' -> 3, '3x5' / '3×5' / '3,5' -> [3, 5]; other text is passed on for network to reject
    with a message naming the field."""
    if _blank(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _number(value)
    match = _PAIR.match(str(value))
    if not match:
        return str(value)
    a, b = match.groups()
    return int(a) if b is None or a == b else [int(a), int(b)]


def _parse_padding(value):
    if _blank(value):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def _activation(value):
    return None if _blank(value) or str(value).lower() == "none" else value


def _option(key: str, value):
    """An option cell -> the spec's value (None for Keras' default, which links leave out)."""
    if _blank(value) or str(value).strip() == OPTION_DEFAULT_TEXT[key]:
        return None
    return network.option_from_text(value)


def _number(value):
    if _blank(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def editor_frame(spec: Mapping) -> pd.DataFrame:
    """spec_to_rows as the DataFrame the page's st.data_editor edits.

    Handing Streamlit a DataFrame (built once per network) instead of a list of dicts saves
    the list -> DataFrame -> list conversions on every rerun (~50 ms of the page's 100 ms).
    """
    frame = pd.DataFrame(spec_to_rows(spec), columns=list(EDITOR_COLUMNS))
    # A hand-made link may hold text where a number belongs: that cell starts empty.
    for column, kind, dtype in (("filters", int, "Int64"), ("units", int, "Int64"),
                                ("depth_multiplier", int, "Int64"),
                                ("rate", float, "Float64")):
        values = [_number(v) for v in frame[column]]
        frame[column] = pd.array([v if isinstance(v, (int, float)) and not isinstance(v, bool)
                                  and (kind is float or float(v).is_integer()) else None
                                  for v in values], dtype=dtype)
    for column in ("type",) + _TEXT_COLUMNS:
        frame[column] = frame[column].astype("string")
    return frame


def rows_to_spec(input_shape, rows) -> dict:
    """Editor rows (a list of dicts or the editor's DataFrame) -> a spec (not validated:
    network.layer_rows reports each bad row)."""
    if isinstance(rows, pd.DataFrame):
        rows = rows.to_dict("records")
    layers = []
    for row in rows:
        kind = row.get("type")
        if _blank(kind):
            continue
        layer: dict[str, Any] = {"type": kind}
        if kind == "Conv2D":
            layer.update(filters=_number(row.get("filters")),
                         kernel_size=_parse_pair(row.get("size")),
                         strides=_parse_pair(row.get("stride")),
                         padding=_parse_padding(row.get("padding")),
                         dilation=_parse_pair(row.get("dilation")),
                         activation=_activation(row.get("activation")))
        elif kind in ("MaxPool2D", "AveragePool2D"):
            layer.update(pool_size=_parse_pair(row.get("size")),
                         strides=_parse_pair(row.get("stride")),
                         padding=_parse_padding(row.get("padding")))
        elif kind == "Dense":
            layer.update(units=_number(row.get("units")),
                         activation=_activation(row.get("activation")))
        elif kind == "Dropout":
            layer.update(rate=_number(row.get("rate")))
        elif kind in modern_layers.CONV_KINDS:
            fields = dict(filters=_number(row.get("filters")),
                          kernel_size=_parse_pair(row.get("size")),
                          strides=_parse_pair(row.get("stride")),
                          padding=_parse_padding(row.get("padding")),
                          depth_multiplier=_number(row.get("depth_multiplier")),
                          activation=_activation(row.get("activation")))
            layer.update({k: v for k, v in fields.items() if k in network.LAYER_DEFAULTS[kind]})
        if kind in network.OPTION_LAYERS:
            layer.update({key: _option(key, row.get(key)) for key in OPTION_COLUMNS})
        layers.append({k: v for k, v in layer.items() if v is not None or k == "activation"})
    return {"input_shape": list(input_shape), "layers": layers}


def compact_spec(spec: Mapping) -> dict:
    """The spec without layer fields that equal their defaults (shorter links; lossless, since
    network.normalize_layer fills exactly those defaults back in), nor options at Keras'
    default."""
    layers = []
    for layer in spec.get("layers", []):
        defaults = network.LAYER_DEFAULTS.get(layer.get("type"), {}) \
            if isinstance(layer, dict) else {}
        defaults = {**network.OPTION_DEFAULTS, **defaults}
        layers.append({k: v for k, v in layer.items() if k not in defaults or v != defaults[k]}
                      if isinstance(layer, dict) else layer)
    return {"input_shape": list(spec.get("input_shape", [])), "layers": layers}


def preset_description(name: str) -> str:
    """The preset's description in the session's language ('' for none)."""
    text = network.PRESETS[name].get("description", "")
    return _(text) if text else ""


# The words network.describe_layer writes around its numbers ("3×3×32, stride 1, padding same,
# relu"), each replaced by its translation; the numbers and technical names stay.
_DESCRIPTION_WORDS = (
    (re.compile(r"\bstride (\S+?)(?=,|$)"), lambda m: _("stride {stride}", stride=m[1])),
    (re.compile(r"\bpadding (\S+?)(?=,|$)"), lambda m: _("padding {padding}", padding=m[1])),
    (re.compile(r"\bdilation (\S+?)(?=,|$)"),
     lambda m: _("dilation {dilation}", dilation=m[1])),
    (re.compile(r"^(\S+) window\b"), lambda m: _("{size} window", size=m[1])),
    (re.compile(r"^(\d+) units\b"), lambda m: _("{units} units", units=m[1])),
    (re.compile(r"^rate (\S+)$"), lambda m: _("rate {rate}", rate=m[1])),
    (re.compile(r"^each channel: "), lambda m: _("each channel: ")),
)


def describe_text(description: str) -> str:
    """A layer description of network.describe_layer in the session's language."""
    for pattern, words in _DESCRIPTION_WORDS:
        description = pattern.sub(words, description)
    return description


def table_frame(table: list[dict]) -> pd.DataFrame:
    """network_table's rows as a DataFrame (cheaper for st.dataframe than a list of dicts)."""
    return pd.DataFrame(table, columns=["#", "layer", "settings", "output shape", "params"])


def network_table(spec: Mapping) -> tuple[list[dict], int, Optional[str]]:
    """(display rows, total params, first problem or None) for the network results table."""
    input_shape = network.input_shape_of(spec)
    table = [{"#": 0, "layer": _("Input"), "settings": "", "output shape": output_text(input_shape),
              "params": 0}]
    problem = None
    for row in network.layer_rows(spec):
        table.append({"#": row.index + 1, "layer": row.type,
                      "settings": describe_text(row.description) if row.error is None
                      else f"⚠ {row.error}",
                      "output shape": output_text(row.output_shape) if row.output_shape
                      else "—", "params": row.params})
        if row.error and problem is None:
            problem = _("Layer {index} ({type}): {error}", index=row.index + 1, type=row.type,
                        error=row.error)
    return table, sum(r["params"] for r in table), problem
