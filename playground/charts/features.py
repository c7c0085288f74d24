"""Figures of "what a filter wants to see" (playground.inspector.features): the generated
pictures as one grid, and each picture's activation beside the best of the test pictures'."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go

from playground.charts.common import fast_figure, grid_columns, rgb_mosaic_figure
from playground.i18n import _


def feature_grid_columns(n: int) -> int:
    """One row for up to 10 pictures (the classes), rows of 8 up to 64, then near-square."""
    return n if n <= 10 else 8 if n <= 64 else grid_columns(n)


def feature_grid_height(n: int, width: int = 700) -> int:
    """Pixels for a grid of n square tiles drawn about ``width`` wide, with a label band of
    half a tile above each row (``rgb_mosaic_figure``'s) and the title."""
    ncols = feature_grid_columns(n)
    rows = -(-n // ncols)
    return int(min(1400, max(170, 60 + rows * (width / ncols) * 1.5)))


def feature_grid_figure(pictures: np.ndarray, labels: Sequence[str], title: str = "",
                        height: Optional[int] = None) -> go.Figure:
    """(N, H, W, C) float pictures in [0, 1] (C = 1 or 3) -> one grid, ``labels[i]`` above
    picture i. Drawn as the model sees them: grey for one channel, colour for three, no
    rescaling (black = 0, white = 1)."""
    pictures = np.asarray(pictures, dtype=np.float32)
    if pictures.ndim != 4 or pictures.shape[3] not in (1, 3):
        raise ValueError(f"pictures must be (N, H, W, 1 or 3), got shape {pictures.shape}")
    if pictures.shape[3] == 1:
        pictures = np.repeat(pictures, 3, axis=3)
    n = len(pictures)
    figure = rgb_mosaic_figure(pictures, feature_grid_columns(n), title=title,
                               height=height or feature_grid_height(n), labels=list(labels),
                               uirevision=title or "features",
                               hovertemplate=_("row %{y}, col %{x}: rgb %{z}")
                               + "<extra></extra>")
    # The whole mosaic in view, no tick marks (plotly's own range cut the last column).
    rows, cols = np.asarray(figure.data[0].z).shape[:2]
    figure.update_xaxes(range=[-0.5, cols - 0.5], ticks="", showline=False)
    figure.update_yaxes(range=[rows - 0.5, -1.5], autorange=False, ticks="", showline=False)
    return figure


def activation_comparison_figure(labels: Sequence[str], generated: np.ndarray,
                                 best_test: np.ndarray, title: str = "", axis_title: str = "",
                                 value_title: str = "", height: int = 260) -> go.Figure:
    """Bars per unit: the generated picture's activation and the largest over the test
    pictures (both float, in the same units: ``value_title``, e.g. the mean of the feature
    map or the class score)."""
    labels = [str(label) for label in labels]
    bars = [dict(type="bar", x=labels, y=np.asarray(generated, float).tolist(),
                 name=_("generated picture"), marker=dict(color="#d62728"),
                 hovertemplate="%{x}: %{y:.3f}<extra></extra>"),
            dict(type="bar", x=labels, y=np.asarray(best_test, float).tolist(),
                 name=_("best of the test pictures"), marker=dict(color="#7f7f7f"),
                 hovertemplate="%{x}: %{y:.3f}<extra></extra>")]
    layout = dict(height=height, barmode="group", margin=dict(l=50, r=10, t=34, b=40),
                  legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"),
                  xaxis=dict(type="category", title=dict(text=axis_title)),
                  yaxis=dict(title=dict(text=value_title)))
    if title:
        layout["title"] = dict(text=title)
    return fast_figure(bars, layout)
