"""Figures of the Live Training page. Plotly only: no streamlit, no TensorFlow.

Every figure has a fixed height and a ``uirevision`` so a live chart redrawn twice a second
keeps the user's zoom, and grids of filters / feature maps are ONE heatmap (charts.common).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.charts.common import (
    DIVERGING,
    SEQUENTIAL,
    fast_figure,
    mosaic_figure,
    panel_axes,
    rgb_mosaic_figure,
    subplot_grid,
)

# One builder per figure of a model, shared with the Model Inspector (re-exported for the page).
from playground.charts.model import digit_figure as digit_figure
from playground.charts.model import filters_figure as filters_figure
from playground.charts.model import probabilities_figure as probabilities_figure
from playground.charts.model import rgb_filters_figure as rgb_filters_figure
from playground.core.shapes import shape_text
from playground.i18n import _

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")
MAX_RAW_POINTS = 2000


def smooth(values: Sequence[float], weight: float = 0.9) -> np.ndarray:
    """TensorBoard's exponential moving average with bias correction. float64 (n,)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    mean, debias = 0.0, 0.0
    for i, value in enumerate(values):
        mean = weight * mean + (1 - weight) * value
        debias = weight * debias + (1 - weight)
        out[i] = mean / debias
    return out


def _thin(x: np.ndarray, *ys: np.ndarray):
    """Every k-th point so a raw curve has at most MAX_RAW_POINTS (the smooth one keeps all)."""
    step = max(1, int(np.ceil(len(x) / MAX_RAW_POINTS)))
    return (x[::step],) + tuple(y[::step] for y in ys)


def _batch_columns(batch_log, *names: str) -> tuple[np.ndarray, ...]:
    """The named columns of a batch log as float64 (n,) arrays (blanks NaN).

    batch_log: a structured array with those fields (a live snapshot's), rows of dicts (a saved
    run's batches.csv), or None.
    """
    if batch_log is None or len(batch_log) == 0:
        return tuple(np.zeros(0) for _ in names)
    if isinstance(batch_log, np.ndarray):
        return tuple(np.asarray(batch_log[name], np.float64) for name in names)
    return tuple(np.array([row.get(name) for row in batch_log], np.float64) for name in names)


def learning_curves_figure(batch_log, epoch_log: Sequence[dict] = (), smoothing: float = 0.9,
                           height: int = 340, uirevision: str = "curves") -> go.Figure:
    """Loss and accuracy per batch (raw, faint + smoothed) against training samples seen,
    with each epoch's mean train and validation values as markers at the epoch's end.

    Two panels side by side (x/y on the left, x2/y2 on the right), from plain dicts.
    """
    samples, losses, accuracies = _batch_columns(batch_log, "samples_seen", "loss", "accuracy")
    traces = []
    samples_hover = _("%{x:,} samples")
    for col, (values, name) in enumerate(((losses, _("batch loss")),
                                          (accuracies, _("batch accuracy"))), start=1):
        axes = panel_axes(col)
        x_raw, y_raw = _thin(samples, values)
        traces.append(dict(type="scatter", x=x_raw, y=y_raw, mode="lines",
                           name=name, line=dict(color=COLOURS[0], width=1),
                           opacity=0.3, legendgroup="raw", showlegend=col == 1,
                           hovertemplate=samples_hover + "<br>%{y:.4f}<extra>"
                                         + _("batch") + "</extra>",
                           **axes))
        traces.append(dict(type="scatter", x=samples,
                           y=smooth(values, smoothing) if len(values) else [], mode="lines",
                           name=_("smoothed ({weight})", weight=f"{smoothing:g}"),
                           line=dict(color=COLOURS[0], width=2.5), legendgroup="smooth",
                           showlegend=col == 1,
                           hovertemplate=samples_hover + "<br>%{y:.4f}<extra>"
                                         + _("smoothed") + "</extra>",
                           **axes))
    ends = _epoch_end_samples(samples, epoch_log)
    for col, key in ((1, "loss"), (2, "accuracy")):
        axes = panel_axes(col)
        for prefix, colour, group, label in (("", COLOURS[2], "train", _("epoch train")),
                                             ("val_", COLOURS[1], "val",
                                              _("epoch validation"))):
            xs = [x for x, row in zip(ends, epoch_log) if row.get(prefix + key) is not None]
            ys = [row[prefix + key] for row in epoch_log if row.get(prefix + key) is not None]
            traces.append(dict(type="scatter", x=xs, y=ys, mode="markers+lines", name=label,
                               marker=dict(color=colour, size=9, symbol="diamond"),
                               line=dict(color=colour, dash="dot", width=1),
                               legendgroup=group, showlegend=col == 1,
                               hovertemplate=_("epoch end, %{x:,} samples") + "<br>%{y:.4f}"
                                             f"<extra>{label}</extra>", **axes))
    layout = dict(height=height, margin=dict(l=10, r=10, t=30, b=10), uirevision=uirevision,
                  legend=dict(orientation="h", y=-0.25), hovermode="closest",
                  **subplot_grid(1, 2, (_("loss"), _("accuracy")), horizontal_spacing=0.08))
    for axis in ("xaxis", "xaxis2"):
        layout[axis]["title"] = dict(text=_("training samples seen"))
    layout["yaxis"]["rangemode"] = "tozero"
    layout["yaxis2"]["range"] = [0, 1.02]
    return fast_figure(traces, layout)


def _epoch_end_samples(samples: np.ndarray, epoch_log: Sequence[dict]) -> list[float]:
    if not len(epoch_log):
        return []
    total = samples[-1] if len(samples) else 0.0
    per_epoch = total / max(len(epoch_log), 1)
    # The batch log knows the exact sample count; epochs are equal-sized slices of it.
    return [per_epoch * (i + 1) for i in range(len(epoch_log))]


def epoch_figure(epoch_log: Sequence[dict], height: int = 300,
                 uirevision: str = "epochs") -> go.Figure:
    """Per-epoch train and validation loss (left) and accuracy (right)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("loss per epoch"),
                                                        _("accuracy per epoch")))
    epochs = [row.get("epoch") for row in epoch_log]
    for col, key in ((1, "loss"), (2, "accuracy")):
        for prefix, colour, label in (("", COLOURS[0], _("train")), ("val_", COLOURS[1],
                                                                    _("validation"))):
            ys = [row.get(prefix + key) for row in epoch_log]
            fig.add_trace(go.Scatter(x=epochs, y=ys, mode="lines+markers", name=label,
                                     line=dict(color=colour), legendgroup=label,
                                     showlegend=col == 1), row=1, col=col)
    fig.update_xaxes(title_text=_("epoch"), dtick=1)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      uirevision=uirevision, legend=dict(orientation="h", y=-0.3))
    return fig




def activations_figure(activation: dict, height: int = 300,
                       uirevision: Optional[str] = None) -> go.Figure:
    """One layer's feature maps for the probe digit: float32 (H, W, C) -> C tiles."""
    maps = np.asarray(activation["values"], np.float32)
    tiles = np.transpose(maps, (2, 0, 1))
    shape = shape_text(activation["shape"])
    title = _("{layer} ({kind}) {shape}, min {low}, max {high}", layer=activation["name"],
              kind=activation["type"], shape=shape, low=f"{activation['min']:.3g}",
              high=f"{activation['max']:.3g}")
    signed = activation["min"] < 0
    return mosaic_figure(tiles, title=title, colorscale=DIVERGING if signed else SEQUENTIAL,
                         symmetric=signed, height=height,
                         uirevision=uirevision or f"act-{activation['name']}")






def layer_stats_figure(rows: Sequence[dict], height: int = 320,
                       uirevision: str = "stats") -> go.Figure:
    """Mean |w| and mean |grad| per layer over training steps (log scale); hover gives min/max.

    rows: dicts with step, layer, w_mean_abs, w_min, w_max, g_mean_abs, g_min, g_max.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("mean |weight| per layer"),
                                                        _("mean |gradient| per layer")))
    layers = list(dict.fromkeys(row["layer"] for row in rows))
    hover = _("step %{x}<br>mean |·| %{y:.3g}<br>min %{customdata[0]:.3g}, "
              "max %{customdata[1]:.3g}")
    for i, layer in enumerate(layers):
        mine = [row for row in rows if row["layer"] == layer]
        steps = [row["step"] for row in mine]
        for col, prefix in ((1, "w"), (2, "g")):
            ys = [row.get(f"{prefix}_mean_abs") for row in mine]
            if all(y is None for y in ys):
                continue
            custom = [[row.get(f"{prefix}_min"), row.get(f"{prefix}_max")] for row in mine]
            fig.add_trace(go.Scatter(
                x=steps, y=ys, customdata=custom, mode="lines+markers", name=layer,
                marker=dict(size=4), line=dict(color=COLOURS[i % len(COLOURS)]),
                legendgroup=layer, showlegend=col == 1,
                hovertemplate=hover + "<extra>" + layer + "</extra>"),
                row=1, col=col)
    fig.update_yaxes(type="log")
    fig.update_xaxes(title_text=_("training step (batch)"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      uirevision=uirevision, legend=dict(orientation="h", y=-0.3))
    return fig




def confusion_figure(matrix: np.ndarray, height: int = 460, uirevision: str = "confusion",
                     class_names: Optional[Sequence[str]] = None) -> go.Figure:
    """Counts as a heatmap (rows true, columns predicted) with a clickable point per cell.

    The invisible scatter on top makes each cell selectable with a click (point selection);
    its customdata is [true, predicted, count]. The axes are named by ``class_names`` (default:
    the digits).
    """
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    ids = list(range(n))
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in ids]
    digits = class_names is None
    shown = np.log1p(matrix.astype(np.float64))  # the diagonal would wash out the mistakes
    fig = go.Figure(go.Heatmap(z=shown, x=ids, y=ids, colorscale="Blues",
                               showscale=False, text=matrix, texttemplate="%{text}",
                               hoverinfo="skip"))
    true, pred = np.meshgrid(ids, ids, indexing="ij")
    fig.add_trace(go.Scatter(
        x=pred.ravel(), y=true.ravel(), mode="markers",
        marker=dict(symbol="square", size=28, color="rgba(0,0,0,0.01)"),
        customdata=np.stack([true.ravel(), pred.ravel(), matrix.ravel()], axis=1),
        text=[_("true {true}, predicted {predicted}", true=names[t], predicted=names[q])
              for t, q in zip(true.ravel(), pred.ravel())],
        hovertemplate=_("%{text}: %{customdata[2]} pictures") + "<extra>"
                      + _("click to show") + "</extra>",
        showlegend=False))
    # Ticks at the cells only: plotly's automatic ticks put −1 and n beyond the matrix.
    ticks = dict(tickmode="array", tickvals=ids, ticktext=names, range=[-0.5, n - 0.5])
    fig.update_xaxes(title_text=_("predicted digit") if digits else _("predicted class"),
                     side="top", **ticks)
    fig.update_yaxes(title_text=_("true digit") if digits else _("true class"),
                     autorange=False, **{
        **ticks, "range": [n - 0.5, -0.5]})
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      uirevision=uirevision, clickmode="event+select", dragmode=False)
    return fig


def gallery_figure(images: np.ndarray, captions: Sequence[str], ncols: int = 8,
                   height: int = 360, uirevision: str = "gallery") -> go.Figure:
    """Pictures (N, H, W), (N, H, W, 1) or colour (N, H, W, 3) in [0, 1] as ONE mosaic, a
    caption above each."""
    images = np.asarray(images, np.float32)
    if images.ndim == 4 and images.shape[3] == 1:
        images = images[..., 0]
    if not len(images):
        fig = go.Figure()
        fig.update_layout(height=height, annotations=[dict(text=_("no pictures"), showarrow=False)])
        return fig
    if images.ndim == 4:
        return rgb_mosaic_figure(images, ncols=min(ncols, len(images)), height=height,
                                 labels=list(captions), uirevision=uirevision)
    fig = mosaic_figure(images, ncols=min(ncols, len(images)), colorscale=SEQUENTIAL,
                        symmetric=False, height=height, labels=list(captions),
                        uirevision=uirevision)
    fig.update_traces(zmin=0, zmax=1, showscale=False)
    return fig


def comparison_figure(series: Sequence[dict], smoothing: float = 0.9, height: int = 380,
                      uirevision: str = "compare") -> go.Figure:
    """Several runs on one chart: smoothed batch loss (left) and validation accuracy per
    epoch (right) against training samples seen — ConvNetJS's optimizer race.

    series: dicts with name, batch_log (structured array or rows, see ``_batch_columns``),
    epoch_log (rows).
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("smoothed training loss"),
                                                        _("validation accuracy per epoch")))
    for i, item in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        samples, losses = _batch_columns(item.get("batch_log"), "samples_seen", "loss")
        if len(samples):
            fig.add_trace(go.Scatter(x=samples, y=smooth(losses, smoothing),
                                     mode="lines", name=item["name"],
                                     line=dict(color=colour, width=2),
                                     legendgroup=item["name"]), row=1, col=1)
        epochs = item.get("epoch_log") or []
        ends = _epoch_end_samples(samples, epochs)
        ys = [row.get("val_accuracy") for row in epochs]
        if any(y is not None for y in ys):
            fig.add_trace(go.Scatter(x=ends, y=ys, mode="lines+markers", name=item["name"],
                                     line=dict(color=colour), legendgroup=item["name"],
                                     showlegend=not len(samples)), row=1, col=2)
    fig.update_xaxes(title_text=_("training samples seen"))
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      uirevision=uirevision, legend=dict(orientation="h", y=-0.25))
    return fig
