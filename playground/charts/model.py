"""Figures of a digit classifier, shared by the Live Training page and the Model Inspector:
a digit, its ten class probabilities, a conv layer's filters. Plotly only (``fast_figure``).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go

from playground.charts.common import (
    DIVERGING,
    SEQUENTIAL,
    fast_figure,
    grid_columns,
    image_layout,
    mosaic_figure,
    rgb_mosaic_figure,
    scale_pairs,
)
from playground.i18n import _

MARGIN = dict(l=10, r=10, t=34, b=10)  # what image_layout uses too
_PREDICTED, _TRUE, _OTHER = "#d62728", "#2ca02c", "#8da0cb"


def digit_figure(image: np.ndarray, title: str = "", height: int = 260,
                 uirevision: str = "") -> go.Figure:
    """One picture: a digit (one channel) in grey (white ink on black, like MNIST), a colour
    picture (H, W, 3) in colour; values on hover.

    ``image``: (H, W), (H, W, 1) or (H, W, 3), float in [0, 1] (for one channel a wider range
    widens the grey scale to fit); other channel counts are averaged.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3 and image.shape[2] == 3:
        pixels = np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
        picture = dict(type="image", z=pixels,
                       hovertemplate=_("row %{y}, col %{x}: rgb %{z}") + "<extra></extra>")
        return fast_figure([picture], image_layout(title, height, uirevision or "picture"))
    if image.ndim == 3:
        image = image[..., 0] if image.shape[2] == 1 else image.mean(axis=2)
    heatmap = dict(type="heatmap", z=image, colorscale=scale_pairs(SEQUENTIAL),
                   zmin=float(min(0.0, image.min(initial=0.0))),
                   zmax=float(max(1.0, image.max(initial=1.0))), showscale=False,
                   hovertemplate=_("row %{y}, col %{x}: %{z:.3f}") + "<extra></extra>")
    return fast_figure([heatmap], image_layout(title, height, uirevision or "digit"))


def probabilities_figure(probabilities: Sequence[float], label: Optional[int] = None,
                         height: int = 260, uirevision: str = "probabilities",
                         class_names: Optional[Sequence[str]] = None) -> go.Figure:
    """(K,) class probabilities as bars: the predicted class red, the true ``label`` green.

    The title says the prediction ('Prediction: 7 (98.1 %) · true label 7'); bars are named by
    ``class_names`` (default: the digits 0..K-1).
    """
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    names = [str(c) for c in class_names] if class_names is not None and \
        len(class_names) == len(probabilities) else [str(i) for i in range(len(probabilities))]
    kind = _("class") if class_names is not None else _("digit")
    best = int(probabilities.argmax())
    colours = [_TRUE if i == label else (_PREDICTED if i == best else _OTHER)
               for i in range(len(probabilities))]
    title = _("Prediction: {name} ({percent} %)", name=names[best],
              percent=f"{100 * probabilities[best]:.1f}")
    if label is not None:
        title += " · " + _("true label {name}", name=names[label])
    bars = dict(type="bar", x=names, y=probabilities,
                marker=dict(color=colours), text=[f"{100 * p:.1f}%" for p in probabilities],
                textposition="outside", cliponaxis=False,
                hovertemplate=kind + " %{x}: %{y:.4f}<extra></extra>")
    layout = dict(title=dict(text=title), height=height, margin=MARGIN, uirevision=uirevision,
                  showlegend=False, bargap=0.25,
                  yaxis=dict(range=[0, 1.15], title=dict(text=_("probability")), tickformat=".0%"),
                  xaxis=dict(title=dict(text=kind), type="category"))
    return fast_figure([bars], layout)


def filters_figure(kernel: np.ndarray, channel: Optional[int] = None, title: str = "",
                   height: int = 320, uirevision: str = "") -> go.Figure:
    """A conv layer's filters as one mosaic heatmap, blue < 0 < red on one symmetric scale.

    ``kernel``: float32 (kh, kw, c_in, c_out) as Keras stores it. With ``channel``: the slice
    kernel[:, :, channel, j] of every filter j, in a near-square grid. Without: every weight;
    one input channel is a grid of the filters, several are c_in rows (input channel c) by
    c_out columns (filter j).
    Raises ValueError for a kernel that is not 4-D or a channel out of range.
    """
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim != 4:
        raise ValueError(f"kernel must be (kh, kw, c_in, c_out), got shape {kernel.shape}")
    kh, kw, c_in, c_out = kernel.shape
    if channel is not None and not 0 <= channel < c_in:
        raise ValueError(f"channel must be in 0..{c_in - 1}, got {channel}")
    if channel is not None:
        tiles, ncols = np.transpose(kernel[:, :, channel, :], (2, 0, 1)), None
    elif c_in == 1:
        tiles, ncols = np.transpose(kernel[:, :, 0, :], (2, 0, 1)), grid_columns(c_out)
    else:
        tiles, ncols = np.transpose(kernel, (2, 3, 0, 1)).reshape(c_in * c_out, kh, kw), c_out
    return mosaic_figure(tiles, ncols, title=title, colorscale=DIVERGING, symmetric=True,
                         height=height, uirevision=uirevision or title or "filters",
                         hovertemplate=_("weight %{z:.4f}") + "<extra></extra>")


def rgb_filters_figure(kernel: np.ndarray, title: str = "", height: int = 320,
                       uirevision: str = "") -> go.Figure:
    """A first conv layer on colour pictures: each filter (kh, kw, 3) drawn as a small RGB
    picture, the weights of all filters on one symmetric scale (grey 0.5 = weight 0; a red
    pixel: the filter likes red there).

    ``kernel``: float32 (kh, kw, 3, c_out) as Keras stores it. ValueError for another shape.
    """
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim != 4 or kernel.shape[2] != 3:
        raise ValueError(f"kernel must be (kh, kw, 3, c_out), got shape {kernel.shape}")
    bound = float(np.abs(kernel).max()) or 1.0
    tiles = np.transpose(kernel, (3, 0, 1, 2)) / (2.0 * bound) + 0.5
    return rgb_mosaic_figure(tiles, grid_columns(kernel.shape[3]), title=title, height=height,
                             uirevision=uirevision or title or "rgb-filters",
                             hovertemplate=_("(rgb / 255 − 0.5) × {scale} = weights",
                                             scale=f"{2 * bound:.3g}") + "<extra></extra>")
