"""The Shape Lab's "Paste your code": Keras or TensorFlow 1 code pasted by a learner becomes the
table's network. The code is read by :mod:`playground.core.code` (``ast``, never run). Pure:
no streamlit."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from playground.core import code, network
from playground.i18n import _
from playground.shape_lab import lab

MAX_CHARS = code.MAX_CHARS  # the text box's max_chars: the parser reads no more


def tf1_text(spec: dict) -> str:
    """The table's network as TensorFlow 1 code (tf.nn.conv2d, tf.matmul; tf.compat.v1 runs it);
    pasting it back gives the same table."""
    return code.tf1_code(spec)


@dataclass(frozen=True)
class Pasted:
    """What was read: ``net`` (the table's ``net`` setting, the compact spec's JSON) or
    ``error`` (one line); the number of layers; whether softmax was put on a last Dense that
    gave logits."""

    net: Optional[str] = None
    error: Optional[str] = None
    layers: int = 0
    softmax_added: bool = False


def read_pasted(text: str) -> Pasted:
    """The pasted code's network for the table. The notes' models end in a Dense without
    activation (logits: their loss applies softmax); that layer gets softmax here, which the
    training page needs (same parameters, and the same model as logits + softmax in the loss)."""
    if not isinstance(text, str) or not text.strip():
        return Pasted(error=_("Paste a Keras Sequential model or a TensorFlow 1 layer stack "
                              "first."))
    try:
        spec = code.network_from_code(text)
    except ValueError as err:
        return Pasted(error=str(err))
    last = spec["layers"][-1]
    logits = last["type"] == "Dense" and last["activation"] is None
    if logits:
        last["activation"] = "softmax"
    return Pasted(net=network.to_json(lab.compact_spec(spec)), layers=len(spec["layers"]),
                  softmax_added=logits)
