"""The course's small examples behind the Filter Lab's "Toy tensors" and "MNIST digit" tabs.

Data only (the computations are :mod:`playground.core.filters` and
:mod:`playground.filter_lab.pipeline`). Pure Python: no streamlit.
"""
from __future__ import annotations

from playground.filter_lab.pipeline import toy_rows
from playground.i18n import N_

# A 3×3 image 1..9 and a 2×2 kernel of ones: VALID -> [[12, 16], [24, 28]].
TOY_IMAGE = toy_rows(3, 3)
TOY_KERNEL = [[1.0, 1.0], [1.0, 1.0]]
# Three constant 2×2 filters over the toy image -> a stack of three feature maps.
BANK_WEIGHTS = (1.0, 10.0, -1.0)
POOL_MODES = ("max", "avg", "min")
# Title -> (rows, mode, size, stride, padding). The titles are keys (of widgets too): marked
# with N_, translated with _ where shown.
POOL_EXAMPLES = {
    N_("4×4 [1..16], max 2×2 stride 2"): (toy_rows(4, 4), "max", 2, 2, "valid"),
    N_("Mixed 4×4, max 2×2 stride 2"): ([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0],
                                         [1, 2, 3, 4]], "max", 2, 2, "valid"),
    N_("[[4,3],[2,1]], SAME max 2×2 stride 1"): ([[4, 3], [2, 1]], "max", 2, 1, "same"),
    N_("6×6 [1..36], 5×5 stride 4 VALID"): (toy_rows(6, 6), "max", 5, 4, "valid"),
    N_("6×6 [1..36], 5×5 stride 4 SAME"): (toy_rows(6, 6), "max", 5, 4, "same"),
}
# The MNIST example: 5 random 3×3 filters, stride 2, SAME: 28×28×1 -> 14×14×5.
MNIST_FILTERS = 5
TOY_INTRO = N_("The course's small examples. Every cell is editable; the results are "
               "recomputed with the same code as the picture lab.")
MNIST_INTRO = N_("One handwritten digit through 5 random 3×3 filters with stride 2 and SAME "
                 "padding: 28×28×1 → **14×14×5**, as in the course.")
