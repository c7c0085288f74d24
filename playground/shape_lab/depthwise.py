"""The Shape Lab's depthwise and separable convolutions (Keras' DepthwiseConv2D and
SeparableConv2D): output shape, parameters with the user's numbers, and what the sliding window
shows for them.

Both slide a kh×kw kernel over each input channel *on its own* (M kernels per channel, M the
``depth_multiplier``), so the sizes follow the convolution's formula and the window view is the
convolution's, on one channel. A depthwise layer stops there: C·M output channels. A separable
layer then mixes those C·M maps with ``filters`` 1×1 kernels (the pointwise step), like a
Conv2D with a 1×1 kernel. Shapes and counts are playground.core.shapes' (equal to Keras', tests/
test_shape_lab_depthwise.py); the window's values equal ``tf.nn.depthwise_conv2d``'s.

Pure Python + numpy.
"""
from __future__ import annotations

from typing import Any, Mapping

from playground.core import shapes
from playground.i18n import _
from playground.shape_lab import settings as shape_settings
from playground.shape_lab.lab import LayerReport, sliding_report

KINDS = ("depthwise", "separable")


def layer_report(settings: Mapping[str, Any]) -> LayerReport:
    """Sections 1-2 for a depthwise or separable convolution; ValueError (naming the setting)
    when the layer is impossible (explicit padding: Keras takes VALID or SAME only)."""
    kind = settings["kind"]
    s = {k: settings[k] for k in ("h", "w", "c", "kh", "kw", "filters", "sh", "sw", "dm",
                                  "dilation")}
    padding = shape_settings.padding_value(settings)
    input_shape = (s["h"], s["w"], s["c"])
    kernel, stride = (s["kh"], s["kw"]), (s["sh"], s["sw"])
    depthwise_shape = shapes.depthwise_output_shape(input_shape, kernel, stride, padding,
                                                    s["dm"])
    padding = shapes.normalize_padding(padding)
    axes = tuple(shapes.axis_report(n, f, st, padding) for n, f, st in
                 ((s["h"], s["kh"], s["sh"]), (s["w"], s["kw"], s["sw"])))
    maps = s["c"] * s["dm"]
    numbers = dict(kh=s["kh"], kw=s["kw"], c=s["c"], m=s["dm"], maps=f"{maps:,}")
    depthwise_weights = s["kh"] * s["kw"] * maps
    if kind == "depthwise":
        output_shape = depthwise_shape
        params = shapes.depthwise_param_count(kernel, s["c"], s["dm"])
        params_text = _("{kh}×{kw}×{c}×{m} = {weights} weights (one {kh}×{kw} kernel per "
                        "channel and multiplier) + {maps} biases = {params} parameters",
                        weights=f"{depthwise_weights:,}", params=f"{params:,}", **numbers)
        notes = [_("Each of the {c} input channels is filtered by its own {m} kernel(s): "
                   "{c} × {m} = {maps} output channels, and no channel is mixed with another.",
                   **numbers)]
    else:
        params = shapes.separable_param_count(kernel, s["c"], s["filters"], s["dm"])
        filters = int(s["filters"])   # checked by the count above
        output_shape = depthwise_shape[:2] + (filters,)
        pointwise = maps * filters
        params_text = _("depthwise {kh}×{kw}×{c}×{m} = {depthwise} weights, then pointwise "
                        "1×1×{maps}×{filters} = {pointwise} weights + {biases} biases = "
                        "{params} parameters", depthwise=f"{depthwise_weights:,}",
                        filters=f"{filters:,}", pointwise=f"{pointwise:,}",
                        biases=f"{filters:,}", params=f"{params:,}", **numbers)
        conv = shapes.conv_param_count(kernel, s["c"], filters)
        notes = [_("First each of the {c} input channels is filtered by its own {m} "
                   "kernel(s) ({maps} maps), then {filters} 1×1 filters mix those maps into "
                   "the output channels.", filters=f"{filters:,}", **numbers),
                 _("A Conv2D with the same kernel, input and filters has {conv} parameters: "
                   "the separable layer needs {ratio} of them.", conv=f"{conv:,}",
                   ratio=f"{params / conv:.0%}")]
    if s["dilation"] != 1:
        notes.append(_("The dilation setting is ignored here (this layer is shown without "
                       "dilation)."))
    notes.append(_("The window below shows the depthwise step on one channel: each channel's "
                   "maps are made exactly this way, with that channel's own kernel."))
    return sliding_report(kind, input_shape, output_shape, axes, padding, params, params_text,
                          notes)
