"""Figures of a run's replay: the loss curves with a marker at the chosen moment, and that
moment's filters, probe activations and probabilities — the live view's own builders
(playground.charts.training), fed from a history frame instead of the latest snapshot.

No streamlit; no TensorFlow.
"""
from __future__ import annotations

from typing import Optional, Protocol, Sequence

import numpy as np
import plotly.graph_objects as go

from playground.charts import training
from playground.i18n import _

MARKER = "#ff7f0e"


class Moment(Protocol):
    """What a moment's figures are drawn from: a history ``Frame`` or a live ``Snapshot``."""

    samples_seen: int
    conv_kernels: dict          # {name: float32 (kh, kw, c_in, c_out)}
    activations: list           # Activation dicts, values float32 (H, W, C)
    probabilities: Optional[np.ndarray]


def curves_figure(batch_log, epoch_log: Sequence[dict], samples_seen: float,
                  step: int, height: int = 320) -> go.Figure:
    """The run's learning curves (training.learning_curves_figure) with a dashed line at
    ``samples_seen`` on both panels and a dot on the batch loss and accuracy of ``step`` (1-based
    batches; 0: before the first)."""
    figure = training.learning_curves_figure(batch_log, epoch_log, height=height,
                                             uirevision="replay_curves")
    for axis in ("x", "x2"):
        figure.add_shape(type="line", x0=samples_seen, x1=samples_seen, xref=axis,
                         yref=f"{axis.replace('x', 'y')} domain", y0=0, y1=1,
                         line=dict(color=MARKER, width=2, dash="dash"))
    losses, accuracies = _column(batch_log, "loss"), _column(batch_log, "accuracy")
    if 0 < step <= len(losses):
        for k, value in ((1, losses[step - 1]), (2, accuracies[step - 1])):
            figure.add_trace(dict(type="scatter", x=[samples_seen], y=[value], mode="markers",
                                  name=_("this moment"), showlegend=k == 1,
                                  marker=dict(color=MARKER, size=12, line=dict(width=1.5)),
                                  hovertemplate=_("batch {step}", step=step)
                                  + "<br>%{y:.4f}<extra></extra>",
                                  xaxis="x" if k == 1 else "x2",
                                  yaxis="y" if k == 1 else "y2"))
    return figure


def _column(batch_log, name: str) -> np.ndarray:
    """One column of a batch log (a snapshot's structured array or a saved run's rows)."""
    if batch_log is None or len(batch_log) == 0:
        return np.zeros(0)
    if isinstance(batch_log, np.ndarray):
        return np.asarray(batch_log[name], np.float64)
    return np.array([row.get(name) for row in batch_log], np.float64)


def filters_figure(moment: Moment, title: str, height: int = 320,
                   conv_layer: Optional[str] = None) -> Optional[go.Figure]:
    """A conv layer's filters at this moment: the first layer's (RGB pictures for a colour
    input), or a deeper ``conv_layer``'s weights on its first input channel; None for a
    network without Conv2D."""
    if not moment.conv_kernels:
        return None
    if conv_layer in moment.conv_kernels and conv_layer != next(iter(moment.conv_kernels)):
        return training.filters_figure(moment.conv_kernels[conv_layer], 0, title=title,
                                       height=height, uirevision="replay_filters")
    first = next(iter(moment.conv_kernels.values()))
    if first.shape[2] == 3:
        return training.rgb_filters_figure(first, title=title, height=height,
                                           uirevision="replay_filters")
    return training.filters_figure(first, 0, title=title, height=height,
                                   uirevision="replay_filters")


def moment_figures(moment: Moment, step: int, batch_log, epoch_log: Sequence[dict],
                   layer: int = 0, label: Optional[int] = None,
                   class_names: Optional[Sequence[str]] = None,
                   conv_layer: Optional[str] = None) -> dict[str, go.Figure]:
    """Every figure of one moment: "curves", "filters" (of Conv2D ``conv_layer``, the first
    when None or unknown), "activations" (of activation ``layer``), "probabilities" — the
    ones the moment has."""
    figures = {"curves": curves_figure(batch_log, epoch_log, moment.samples_seen, step)}
    names = list(moment.conv_kernels)
    if conv_layer in names[1:]:
        filters = filters_figure(moment, _("{layer}: its filters' weights on input channel 1 "
                                           "after {step} batches", layer=conv_layer, step=step),
                                 conv_layer=conv_layer)
    else:
        filters = filters_figure(moment, _("first-layer filters after {step} batches",
                                           step=step))
    if filters is not None:
        figures["filters"] = filters
    if moment.activations:
        act = moment.activations[min(layer, len(moment.activations) - 1)]
        figures["activations"] = training.activations_figure(act, height=340,
                                                             uirevision="replay_acts")
    if moment.probabilities is not None:
        figures["probabilities"] = training.probabilities_figure(
            moment.probabilities, label, height=220, uirevision="replay_probs",
            class_names=class_names)
    return figures
