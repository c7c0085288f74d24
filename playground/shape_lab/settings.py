"""Every Shape Lab setting declared once, with its default, and its round trip through the URL.

Like tensorflow/playground's ``state.ts``: a table of properties (name, kind, default, allowed
values) and two functions, ``to_query`` (settings -> query-string dict, defaults left out so
links stay short) and ``from_query`` (query-string dict -> settings, with a one-line message for
every value that could not be read, which then keeps its default). Pure Python: no streamlit.

A custom network travels as ``net`` = :func:`playground.core.network.to_json` of its spec; a preset as
``preset`` = its display name (``net`` wins when both are present).
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from playground.core import network

KINDS = ("conv", "max", "avg")
KIND_LABELS = {"conv": "Convolution", "max": "Max pooling", "avg": "Average pooling"}
PADDINGS = ("valid", "same", "explicit")
IMAGES = ("counting", "random")
WEIGHTS = ("ones", "random")
DEFAULT_PRESET = "Course CNN (2 conv)"


@dataclass(frozen=True)
class Prop:
    """One setting: its query-string name, kind ("int", "choice" or "text") and default."""

    name: str
    kind: str
    default: Any
    choices: Optional[Sequence[str]] = None
    help: str = ""


# One layer: the course's sliding-window example by default (3×3 image 1..9, 2×2 kernel of ones,
# VALID -> [[12, 16], [24, 28]]). Ints are not range-checked here: stride 0 or a negative size
# must reach the page, which explains why it is impossible.
PROPS: tuple[Prop, ...] = (
    Prop("h", "int", 3, help="input height"),
    Prop("w", "int", 3, help="input width"),
    Prop("c", "int", 1, help="input channels"),
    Prop("kind", "choice", "conv", KINDS, "layer kind"),
    Prop("kh", "int", 2, help="kernel height"),
    Prop("kw", "int", 2, help="kernel width"),
    Prop("filters", "int", 1, help="number of filters"),
    Prop("sh", "int", 1, help="vertical stride"),
    Prop("sw", "int", 1, help="horizontal stride"),
    Prop("padding", "choice", "valid", PADDINGS, "padding mode"),
    Prop("pad", "int", 1, help="explicit padding pixels per side"),
    Prop("dilation", "int", 1, help="dilation rate"),
    Prop("image", "choice", "counting", IMAGES, "values of the demo input"),
    Prop("weights", "choice", "ones", WEIGHTS, "values of the demo kernel"),
    Prop("pos", "int", 0, help="output position of the sliding window"),
    Prop("preset", "choice", DEFAULT_PRESET, tuple(network.PRESETS), "network preset"),
    Prop("net", "text", "", help="custom network spec as JSON"),
)
PROP_BY_NAME = {prop.name: prop for prop in PROPS}
# Small enough that Python's int() and a browser's URL never see silly numbers.
_INT_LIMIT = 100_000


def defaults() -> dict[str, Any]:
    """A fresh dict of every setting at its default."""
    return {prop.name: copy.deepcopy(prop.default) for prop in PROPS}


def _first(value):
    # st.query_params gives the last value for a repeated key; a plain dict may hold a list.
    if isinstance(value, (list, tuple)):
        return value[-1] if value else ""
    return value


def parse_value(prop: Prop, raw) -> Any:
    """The query-string text of one setting -> its value; raises ValueError naming the setting."""
    raw = _first(raw)
    text = str(raw).strip()
    if prop.kind == "int":
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{prop.name} must be a whole number, got {text!r}") from None
        if abs(value) > _INT_LIMIT:
            raise ValueError(f"{prop.name} must be between -{_INT_LIMIT} and {_INT_LIMIT}, "
                             f"got {value}")
        return value
    if prop.kind == "choice":
        for choice in prop.choices or ():
            if text.lower() == str(choice).lower():
                return choice
        raise ValueError(f"{prop.name} must be one of {', '.join(map(str, prop.choices))}, "
                         f"got {text!r}")
    return text


def from_query(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Query-string dict -> (settings, messages). Unknown keys are ignored; a bad value keeps
    its default and adds one message. ``net`` must be a spec that network.from_json accepts."""
    settings = defaults()
    messages = []
    for name, raw in params.items():
        prop = PROP_BY_NAME.get(name)
        if prop is None:
            continue
        try:
            value = parse_value(prop, raw)
            if prop.name == "net" and value:
                _parse_net(value)
            settings[prop.name] = value
        except ValueError as err:
            messages.append(f"Ignored the link's {name}: {err}")
    return settings, messages


def to_query(settings: Mapping[str, Any]) -> dict[str, str]:
    """Settings -> query-string dict of the values that differ from their defaults."""
    query = {}
    for prop in PROPS:
        if prop.name not in settings:
            continue
        value = settings[prop.name]
        if value == prop.default or value is None:
            continue
        query[prop.name] = str(value)
    return query


def _parse_net(text: str) -> dict:
    # Only the structure is checked: a link to a table with a bad layer reopens that table,
    # whose row then explains the problem.
    try:
        spec = json.loads(text)
    except ValueError:
        raise ValueError("net is not valid JSON") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("layers"), list) \
            or not isinstance(spec.get("input_shape"), list):
        raise ValueError("net must be a JSON object with input_shape and layers lists")
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
