"""Every "Backprop by hand" setting declared once (rows of :class:`playground.settings.Prop`).

The page's widgets take their options and ranges from these rows, and its link is read with
``PROPS.from_query``. Pure Python: no streamlit.
"""
from __future__ import annotations

from playground.core import backprop
from playground.i18n import N_
from playground.settings import Prop, Props

EXAMPLES = ("toy", "custom")
VALUES = ("random", "ramp")       # the custom layer's input and kernel: random or 1, 2, 3 …
TARGETS = ("zeros", "random")

PROPS = Props([
    Prop("example", str, "toy", choices=EXAMPLES,
         help=N_("The course's toy example (3×3 image 1..9, 2×2 kernel of ones) or a small "
                 "layer of your choice.")),
    Prop("stride", int, 1, low=1, high=3, help=N_("Steps the window moves by.")),
    Prop("padding", str, "valid", choices=backprop.PADDINGS,
         help=N_("SAME keeps ceil(N / stride) outputs (TensorFlow puts the odd pixel "
                 "bottom/right); VALID adds none.")),
    Prop("loss", str, "sum", choices=backprop.LOSSES,
         help=N_("½·Σ(Y − T)², or the mean of (Y − T)² as Keras' MeanSquaredError.")),
    Prop("learning_rate", float, 0.001, low=1e-6, high=10.0,
         help=N_("How far one SGD step moves the weights: W − learning rate · ∂L/∂W.")),
    Prop("input_size", int, 5, low=2, high=8, help=N_("Rows and columns of the input X.")),
    Prop("kernel_size", int, 3, low=1, high=5, help=N_("Rows and columns of the kernel W.")),
    Prop("values", str, "random", choices=VALUES,
         help=N_("Random whole numbers from −3 to 3, or 1, 2, 3 … row by row.")),
    Prop("target", str, "zeros", choices=TARGETS, help=N_("The target T the loss compares "
                                                           "the output Y with.")),
    Prop("seed", int, 0, low=0, high=10**6, help=N_("Seed of the random values.")),
])
LINK = tuple(PROPS)
