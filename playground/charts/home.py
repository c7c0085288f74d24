"""The home page's picture of the CNN pipeline."""
from __future__ import annotations

import re

import plotly.graph_objects as go

from playground.core.shapes import shape_text
from playground.i18n import N_, _

_COLOURS = {"input": "#dbe7fb", "conv": "#fbd9b8", "ReLU": "#d5efd1", "max pool": "#d3e4f5",
            "avg pool": "#d3e4f5", "flatten": "#e6e6e6", "fully connected": "#ecd5f1",
            "softmax": "#fff0b3", "dropout": "#e6e6e6"}
# The stage names network.pipeline_stages writes, marked for the catalog; any other name (an
# activation such as sigmoid) is a technical name and is shown as it is.
_KINDS = frozenset((N_("input"), N_("conv"), N_("max pool"), N_("avg pool"), N_("flatten"),
                    N_("fully connected"), N_("dropout"), N_("batch norm"), N_("softmax")))


def stage_text(label: str) -> tuple[str, str]:
    """(name, detail) of one stage label from ``network.pipeline_stages`` ("conv\n3×3×32,
    stride 1"), in the current language. The detail's words are the few that function
    writes (``stride …``, ``… units``; " window" is dropped to keep it inside the box)."""
    kind, _sep, detail = label.partition("\n")
    name = _(kind) if kind in _KINDS else kind
    detail = detail.replace(" window", "")
    detail = re.sub(r"stride (\S+)", lambda m: _("stride {stride}", stride=m.group(1)), detail)
    detail = re.sub(r"^(\d+) units$", lambda m: _("{units} units", units=m.group(1)), detail)
    if _text_width(detail) > 17:   # wider than the box at 11 px: one part per line
        detail = detail.replace(", ", "<br>")
    return name, detail


def _text_width(text: str) -> int:
    """Width in Latin characters: a Hangul syllable is about two ("스트라이드" is wider than
    "stride")."""
    return sum(2 if "\uac00" <= ch <= "\ud7a3" else 1 for ch in text)


def pipeline_figure(stages: list[tuple[str, tuple[int, ...]]], per_row: int = 6,
                    height_per_row: int = 150) -> go.Figure:
    """Boxes for the stages (label, output shape), left to right in rows of ``per_row``,
    each arrow labelled with the shape that flows along it. A row ends at the right edge and
    the next starts at the left, like reading a line of text."""
    box_w, box_h, gap = 1.0, 0.56, 0.55
    fig = go.Figure()
    rows = (len(stages) + per_row - 1) // per_row
    positions = []
    for i, (label, _shape) in enumerate(stages):
        r, c = divmod(i, per_row)
        x0, y0 = c * (box_w + gap), -r * 1.35
        positions.append((x0, y0))
        kind = label.split("\n")[0]
        fig.add_shape(type="rect", x0=x0, x1=x0 + box_w, y0=y0, y1=y0 + box_h,
                      line=dict(color="#666666", width=1),
                      fillcolor=_COLOURS.get(kind, "#ffffff"), layer="below")
        title, detail = stage_text(label)
        text = f"<b>{title}</b>" + (f"<br><span style='font-size:11px'>{detail}</span>"
                                    if detail else "")
        fig.add_annotation(x=x0 + box_w / 2, y=y0 + box_h / 2, text=text, showarrow=False,
                           font=dict(size=13, color="#222222"))
    for i in range(1, len(stages)):
        (xa, ya), (xb, yb) = positions[i - 1], positions[i]
        shape = shape_text(stages[i - 1][1])
        if yb == ya:  # same row: a straight arrow between the boxes
            start, end = (xa + box_w, ya + box_h / 2), (xb, yb + box_h / 2)
            label_at = ((start[0] + end[0]) / 2, start[1] + 0.17)
        else:  # next row: from the bottom of the last box to the top of the first
            start, end = (xa + box_w / 2, ya), (xb + box_w / 2, yb + box_h)
            label_at = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.1)
        fig.add_annotation(x=end[0], y=end[1], ax=start[0], ay=start[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=2, arrowsize=1,
                           arrowwidth=1.4, arrowcolor="#555555", text="")
        fig.add_annotation(x=label_at[0], y=label_at[1], text=shape, showarrow=False,
                           font=dict(size=12, color="#1f4e96"),
                           bgcolor="rgba(255,255,255,0.85)")
    last_x, last_y = positions[-1]
    fig.add_annotation(x=last_x + box_w + gap * 0.95, y=last_y + box_h / 2,
                       ax=last_x + box_w, ay=last_y + box_h / 2, xref="x", yref="y",
                       axref="x", ayref="y", showarrow=True, arrowhead=2, arrowwidth=1.4,
                       arrowcolor="#555555", text="")
    fig.add_annotation(x=last_x + box_w + gap / 2, y=last_y + box_h / 2 + 0.17,
                       text=shape_text(stages[-1][1]), showarrow=False,
                       font=dict(size=12, color="#1f4e96"))
    fig.add_annotation(x=last_x + box_w + gap + 0.05, y=last_y + box_h / 2, xanchor="left",
                       text=_("class<br>probabilities"), showarrow=False, font=dict(size=12))
    width_units = per_row * (box_w + gap) + 0.6
    fig.update_xaxes(visible=False, range=[-0.1, width_units])
    fig.update_yaxes(visible=False, range=[-(rows - 1) * 1.35 - 0.15, box_h + 0.15])
    fig.update_layout(height=rows * height_per_row, margin=dict(l=0, r=0, t=0, b=0),
                      plot_bgcolor="white", showlegend=False, dragmode=False)
    return fig
