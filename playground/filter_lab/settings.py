"""Every Filter Lab setting declared once, as rows of the generic :class:`playground.settings.Prop`.

The page's widgets take their options, ranges and defaults from these rows, and its link is read
with ``PROPS.from_query`` (a bad value keeps its default and gives one message "Ignored the
link's <name>: ..."). ``LINK`` names the settings that travel in the address; ``filter`` is the
one repeated key (one value per chosen filter). ``tab`` is written by ``st.tabs`` itself.
Pure Python: no streamlit.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from playground.core import filters
from playground.datasets import images
from playground.filter_lab import pipeline
from playground.i18n import N_, _
from playground.settings import Prop, Props

COURSE_SET = ("Course edge 5×5 (vertical edges)", "Course edge 5×5 (horizontal edges)",
              "Course curve detector 7×7")
SOBEL_SET = ("Sobel x (vertical edges)", "Sobel y (horizontal edges)")
FILTER_OPTIONS = tuple(filters.KERNELS) + (pipeline.CUSTOM,)
PICTURES = tuple(images.samples()) + tuple(images.PATTERNS)
PADDINGS = ("same", "valid", "pixels")
RESOLUTIONS = (256, 512, 768, 1024, 1536, 2048)
TABS = (N_("Your picture"), N_("Toy tensors (course examples)"), N_("MNIST digit"))

PROPS = Props([
    # In the link (LINK below).
    Prop("filter", str, COURSE_SET[0], choices=tuple(filters.KERNELS),
         help="a named filter (repeat the key for a stack)"),
    Prop("picture", str, PICTURES[0], choices=PICTURES, help="bundled picture or pattern"),
    Prop("colour", str, pipeline.GRAY, choices=pipeline.COLOUR_MODES,
         help=N_("Grayscale or one channel: a 2-D kernel on one plane. Each RGB channel: the "
                 "kernel on R, G and B separately. 3-channel filter: a kh×kw×3 kernel summed "
                 "over the channels, as a conv layer does.")),
    Prop("stride", int, 1, low=1, high=8, help="stride of the filters"),
    Prop("padding", str, "same", choices=PADDINGS,
         help=N_("SAME keeps ceil(N / stride) outputs (TensorFlow puts the odd pixel "
                 "bottom/right); VALID adds none; pixels adds P zeros on each side.")),
    Prop("relu", bool, True, help="ReLU (max(0, x)) after the filters"),
    Prop("pool", str, "max", choices=pipeline.POOL_MODES, help="pooling after ReLU"),
    # The page's other settings (not in the link).
    Prop("pad_px", int, 1, low=0, high=20, help="padding pixels per side"),
    Prop("pool_size", int, 2, low=1, high=8, help="pool window side"),
    Prop("pool_stride", int, 2, low=1, high=8, help="pool stride"),
    Prop("pool_padding", str, "valid", choices=("valid", "same"), help="pool padding"),
    Prop("working", int, 1024, choices=RESOLUTIONS,
         help=N_("Filters run on a copy this large; the download uses the full resolution.")),
    Prop("custom_h", int, 3, low=1, high=pipeline.MAX_CUSTOM_SIDE, help="custom kernel rows"),
    Prop("custom_w", int, 3, low=1, high=pipeline.MAX_CUSTOM_SIDE,
         help="custom kernel columns"),
    Prop("mnist_seed", int, 0, low=0, high=10**6, help="seed of the random MNIST filters"),
    Prop("tab", str, TABS[0], choices=TABS, help="the open tab (st.tabs keeps it)"),
])
LINK = ("filter", "picture", "colour", "stride", "padding", "relu", "pool")


def from_query(params: Mapping[str, Any], filter_values: Iterable[str] = ()
               ) -> tuple[dict[str, Any], list[str]]:
    """A link -> (settings of LINK, messages). ``params`` holds one value per key;
    ``filter_values`` every value of the repeated ``filter`` key: each one that is no filter
    is left out with a message, and none left means the default."""
    single = {name: params[name] for name in LINK if name in params and name != "filter"}
    settings, messages = PROPS.from_query(single)
    chosen = []
    for raw in filter_values:
        try:
            chosen.append(PROPS["filter"].parse(raw))
        except ValueError as error:
            messages.append(_("Ignored the link's {name}: {error}", name="filter", error=error))
    settings["filter"] = chosen or [PROPS["filter"].default]
    return {name: settings[name] for name in LINK}, messages


def to_query(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings -> the link: every LINK setting (defaults too, so a shared link keeps its
    meaning if a default changes); ``filter`` as a list without the custom kernel."""
    query = {name: PROPS[name].to_text(settings[name]) for name in LINK if name != "filter"}
    query["filter"] = [name for name in settings["filter"] if name != pipeline.CUSTOM]
    return query
