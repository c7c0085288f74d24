"""Every Shape Lab setting declared once, as rows of the generic :class:`playground.settings.Prop`.

The page's widgets read their options from these rows; ``from_query`` / ``to_query`` are the
table's URL round trip (defaults left out so links stay short; a value that cannot be read keeps
its default and gives one message starting "Ignored the link's <name>"). Pure Python: no
streamlit.

A custom network travels as ``net`` = :func:`playground.core.network.to_json` of its spec; a
preset as ``preset`` = its display name (``net`` wins when both are present).
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from playground.core import network
from playground.i18n import N_, _
from playground.settings import Prop, Props

KINDS = ("conv", "max", "avg", "transposed", "depthwise", "separable")
# Display labels, marked with N_ and translated with _ where shown (the values stay in links).
KIND_LABELS = {"conv": N_("Convolution"), "max": N_("Max pooling"),
               "avg": N_("Average pooling"), "transposed": N_("Transposed convolution"),
               "depthwise": N_("Depthwise convolution"),
               "separable": N_("Separable convolution")}
KERNEL_KINDS = ("conv", "transposed", "depthwise", "separable")   # the layers with kernels
PADDINGS = ("valid", "same", "explicit")
PADDING_LABELS = {"valid": "VALID", "same": "SAME", "explicit": N_("pixels per side")}
IMAGES = ("counting", "random")
IMAGE_LABELS = {"counting": "1, 2, 3, …", "random": N_("random digits")}
WEIGHTS = ("ones", "random")
WEIGHT_LABELS = {"ones": N_("all ones"), "random": N_("random −1/0/1")}
DEFAULT_PRESET = "Course CNN (2 conv)"
# The presets' names are link values, shown translated (format_func=i18n.shown()); the Training
# page's settings mark the others for the catalog, this one is the Shape Lab's alone.
PRESET_NAMES = (N_("32×32×3 image, six 5×5 filters"),)


def _check_net(text: str) -> str:
    if text:
        _parse_net(text)
    return text


# One layer: the course's sliding-window example by default (3×3 image 1..9, 2×2 kernel of ones,
# VALID -> [[12, 16], [24, 28]]). Ints have no bounds here (only the table's ±100,000 in links):
# stride 0 or a negative size must reach the page, which explains why it is impossible.
PROPS = Props([
    Prop("h", int, 3, help="input height"),
    Prop("w", int, 3, help="input width"),
    Prop("c", int, 1, help="input channels"),
    Prop("kind", str, "conv", choices=KINDS, help="layer kind"),
    Prop("kh", int, 2, help="kernel height"),
    Prop("kw", int, 2, help="kernel width"),
    Prop("filters", int, 1, help="number of filters"),
    Prop("sh", int, 1, help="vertical stride"),
    Prop("sw", int, 1, help="horizontal stride"),
    Prop("padding", str, "valid", choices=PADDINGS,
         help=N_("VALID: none. SAME (TensorFlow): output = ⌈N / S⌉, the odd pixel goes "
                 "bottom/right. Or a number of zero pixels on every side.")),
    Prop("pad", int, 1, help="explicit padding pixels per side"),
    Prop("dm", int, 1, help=N_("Kernels per input channel in a depthwise or separable "
                               "convolution (Keras' depth_multiplier).")),
    Prop("dilation", int, 1,
         help=N_("Gaps between the kernel's taps: it spans (F − 1)·D + 1 pixels.")),
    Prop("image", str, "counting", choices=IMAGES, help="values of the demo input"),
    Prop("weights", str, "ones", choices=WEIGHTS, help="values of the demo kernel"),
    Prop("pos", int, 0, help="output position of the sliding window"),
    Prop("preset", str, DEFAULT_PRESET, choices=tuple(network.PRESETS), help="network preset"),
    Prop("net", str, "", help="custom network spec as JSON", check=_check_net),
])


def defaults() -> dict[str, Any]:
    """A fresh dict of every setting at its default."""
    return PROPS.defaults()


def from_query(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Query-string dict -> (settings, messages). Unknown keys are ignored; a bad value keeps
    its default and adds one message. ``net`` must be JSON shaped like a spec."""
    return PROPS.from_query(params)


def to_query(settings: Mapping[str, Any]) -> dict[str, str]:
    """Settings -> query-string dict of the values that differ from their defaults."""
    return PROPS.to_query(settings)


def _parse_net(text: str) -> dict:
    # Only the structure is checked: a link to a table with a bad layer reopens that table,
    # whose row then explains the problem.
    try:
        spec = json.loads(text)
    except ValueError:
        raise ValueError(_("net is not valid JSON")) from None
    if not isinstance(spec, dict) or not isinstance(spec.get("layers"), list) \
            or not isinstance(spec.get("input_shape"), list):
        raise ValueError(_("net must be a JSON object with input_shape and layers lists"))
    return spec


def network_spec(settings: Mapping[str, Any]) -> dict:
    """The network the settings describe: the custom ``net`` if any, else the preset.
    The custom one is not validated (network.layer_rows reports its problems)."""
    if settings.get("net"):
        return _parse_net(settings["net"])
    return network.preset(settings.get("preset") or DEFAULT_PRESET)


def padding_value(settings: Mapping[str, Any]):
    """The padding argument for playground.core.shapes: "valid", "same" or the explicit pixels."""
    return settings["pad"] if settings["padding"] == "explicit" else settings["padding"]
