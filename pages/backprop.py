"""Backprop by hand: one convolution's forward pass, loss, gradients and SGD step, cell by cell.

Widgets and layout only: the numbers are playground.core.backprop's (tested against
tf.GradientTape), the layer and captions playground.backprop.lab, the settings' rows
playground.backprop.settings, the figures playground.charts.backprop. No TensorFlow here.
"""
import streamlit as st

from playground.backprop import lab
from playground.backprop import settings as bp_settings
from playground.charts import backprop as charts
from playground.core.backprop import number
from playground.i18n import _

PROPS = bp_settings.PROPS
CONFIG = {"displaylogo": False, "displayModeBar": False}
KEY = "bp_"   # the widgets' session-state keys: KEY + the setting's name


def _label(value: str) -> str:
    return {"toy": _("Course toy example (3×3 [1..9], 2×2 kernel)"),
            "custom": _("A small layer of my choice"), "valid": "VALID", "same": "SAME",
            "sum": "½·Σ(Y − T)²", "mean": _("mean (Y − T)² (Keras MSE)"),
            "random": _("random"), "ramp": "1, 2, 3 …", "zeros": _("zeros")}.get(value, value)


def _init_state():
    """The link's settings into the widgets, once per session (a bad value warns)."""
    if st.session_state.get(KEY + "initialised"):
        return
    st.session_state[KEY + "initialised"] = True
    link, messages = PROPS.from_query(st.query_params.to_dict())
    for message in messages:
        st.warning(message)
    for name, value in link.items():
        st.session_state[KEY + name] = value


def controls() -> dict:
    """The layer's settings from the widgets (and into the address)."""
    def choice(name, column, label, **kwargs):
        return column.radio(label, PROPS[name].choices, key=KEY + name, format_func=_label,
                            help=_(PROPS[name].help), **kwargs)

    choice("example", st, _("Example"), horizontal=True)
    a, b, c, d = st.columns(4)
    a.slider(_("Stride"), key=KEY + "stride", help=_(PROPS["stride"].help),
             **PROPS["stride"].widget_range())
    choice("padding", b, _("Padding"), horizontal=True)
    choice("loss", c, _("Loss"))
    d.number_input(_("Learning rate"), key=KEY + "learning_rate", format="%g", step=0.001,
                   help=_(PROPS["learning_rate"].help), **PROPS["learning_rate"].widget_range())
    if st.session_state[KEY + "example"] == "custom":
        a, b, c, d, e = st.columns(5)
        a.slider(_("Input size"), key=KEY + "input_size", help=_(PROPS["input_size"].help),
                 **PROPS["input_size"].widget_range())
        b.slider(_("Kernel size"), key=KEY + "kernel_size", help=_(PROPS["kernel_size"].help),
                 **PROPS["kernel_size"].widget_range())
        choice("values", c, _("Values"))
        choice("target", d, _("Target"))
        e.number_input(_("Seed"), key=KEY + "seed", step=1, help=_(PROPS["seed"].help),
                       **PROPS["seed"].widget_range())
    chosen = {name: st.session_state.get(KEY + name, PROPS[name].default) for name in PROPS}
    query = PROPS.to_query(chosen)
    for name in PROPS:
        if name in query:
            st.query_params[name] = query[name]
        elif name in st.query_params:
            del st.query_params[name]
    return chosen


def stepper(title: str, build, count: int, key: str, signed: bool = False):
    """One step of the pass: a slider over the result's cells and the sliding window for it."""
    st.subheader(title)
    k = 0
    if count > 1:
        k = st.slider(_("Window position (cell, row by row)"), 0, count - 1, 0, key=KEY + key)
    slide = build(k)
    height = 140 + 42 * max(slide.grid.shape[0], slide.result.shape[0])
    st.plotly_chart(charts.slide_figure(slide, signed_grid=signed, height=height),
                    key=KEY + key + "_chart", config=CONFIG)


def worked(bp):
    stepper(_("1. Forward pass: Y = X ⋆ W + b"), lambda k: lab.forward_slide(bp, k),
            bp.output.size, "forward")
    st.subheader(_("2. Loss and ∂L/∂Y"))
    if bp.loss_kind == "sum":
        st.markdown(_("L = ½·Σ(Y − T)² = **{loss}**, so ∂L/∂Y = Y − T.",
                      loss=number(bp.loss)))
    else:
        st.markdown(_("L = mean((Y − T)²) = **{loss}**, so ∂L/∂Y = 2·(Y − T)/{count}.",
                      loss=number(bp.loss), count=bp.output.size))
    st.plotly_chart(charts.grids_figure([(_("output Y"), bp.output), (_("target T"), bp.target),
                                         ("∂L/∂Y", bp.grad_output)],
                                        height=100 + 42 * bp.output.shape[0]),
                    key=KEY + "loss_chart", config=CONFIG)
    st.caption(_("∂L/∂W: ∂L/∂Y slides over the padded input as a window whose cells are "
                 "{stride} apart (∂L/∂Y dilated by the stride). Each position gives one "
                 "cell of ∂L/∂W.", stride="×".join(map(str, bp.stride))))
    stepper(_("3. ∂L/∂W: the input correlated with ∂L/∂Y"),
            lambda k: lab.kernel_grad_slide(bp, k), bp.kernel.size, "grad_kernel")
    st.caption(_("∂L/∂X: ∂L/∂Y, dilated by the stride and framed by kernel − 1 zeros, "
                 "convolved with the flipped kernel (a full convolution). The green box is the "
                 "real input; the padding's gradient is cut off."))
    stepper(_("4. ∂L/∂X: full convolution with the flipped kernel"),
            lambda k: lab.input_grad_slide(bp, k), bp.grad_padded.size, "grad_input",
            signed=True)
    st.subheader(_("5. ∂L/∂b and one SGD step"))
    st.markdown(_("∂L/∂b = Σ ∂L/∂Y = **{grad}**. With learning rate {lr}: "
                  "W ← W − {lr}·∂L/∂W, b ← {bias} − {lr}·{grad} = **{new_bias}**.",
                  grad=number(bp.grad_bias), lr=number(bp.learning_rate, 6),
                  bias=number(bp.bias), new_bias=number(bp.new_bias)))
    st.plotly_chart(charts.grids_figure([(_("kernel W"), bp.kernel), ("∂L/∂W", bp.grad_kernel),
                                         (_("new W"), bp.new_kernel),
                                         (_("new output Y"), bp.new_output)],
                                        height=100 + 42 * max(bp.kernel.shape[0],
                                                              bp.output.shape[0])),
                    key=KEY + "sgd_chart", config=CONFIG)
    before, after = st.columns(2)
    before.metric(_("Loss before"), number(bp.loss))
    after.metric(_("Loss after one SGD step"), number(bp.new_loss),
                 delta=float(f"{bp.new_loss - bp.loss:.4g}"), delta_color="inverse")


def main():
    _init_state()
    st.title(_("Backprop by hand"))
    st.caption(_("Backpropagation through one convolution, every number shown: the "
                 "forward pass, the loss, ∂L/∂Y, ∂L/∂W, ∂L/∂X, ∂L/∂b and one SGD step. Every "
                 "number equals what tf.GradientTape computes."))
    chosen = controls()
    try:
        bp = lab.layer(PROPS.check(chosen))
    except ValueError as error:
        st.error(str(error).splitlines()[0])
        return
    worked(bp)


main()
