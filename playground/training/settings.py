"""Every training setting declared once, and the checks a run's settings pass before it starts.

One ``Prop`` row per setting (type, default, bounds, choices, help): the Training page's
widgets take their ranges from it, links are read through it (``settings_from_query``) and a
run's settings are checked with it (``normalize_settings``). The per-preset recipes
(``TRAINING_DEFAULTS``) override some of the rows' defaults.

No TensorFlow here (nor in anything this imports): the Training page shows its form from this
module alone, and TensorFlow starts only in a training or evaluation process.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Union

from playground.core import network
from playground.settings import Prop, Props

N_TRAIN, N_TEST = 60_000, 10_000      # MNIST's training and test digits
MNIST_INPUT_SHAPE = (28, 28, 1)
N_CLASSES = 10

OPTIMIZERS = ("Adam", "SGD", "SGD+momentum", "RMSprop", "Adadelta")
# Each optimizer's usual starting point. Adadelta is meant to run at 1.0 (Zeiler 2012, and
# ConvNetJS); Keras' own default of 0.001 barely moves it.
DEFAULT_LEARNING_RATES = {"Adam": 1e-3, "SGD": 0.01, "SGD+momentum": 0.01, "RMSprop": 1e-3,
                          "Adadelta": 1.0}
LR_SCHEDULES = ("constant", "one-cycle")

DEFAULT_PRESET = "Fast MNIST CNN"
CUSTOM = "Custom network (spec JSON)"

# The defaults here are the generic recipe (a custom network from the Shape Lab); a preset's
# own recipe is in PRESET_RECIPES. The bounds are what a run accepts, and the page's widgets
# take the same ones: a value from the address that a widget's own range refused would stop
# the page with an error.
PROPS = Props([
    Prop("optimizer", str, "Adam", choices=OPTIMIZERS, help="Keras optimizer"),
    Prop("learning_rate", float, 1e-3, low=1e-7, high=10.0,
         help="the optimizer's rate (the peak of a one-cycle schedule)"),
    Prop("momentum", float, 0.9, low=0.0, high=0.999, help="only SGD+momentum uses it"),
    Prop("lr_schedule", str, "constant", choices=LR_SCHEDULES,
         help="one-cycle: warm up to the rate, then a cosine decay (the fast preset's recipe)."),
    Prop("batch_size", int, 100, low=1, high=8192),
    Prop("epochs", int, 5, low=1, high=200),
    Prop("train_examples", int, N_TRAIN, low=10, high=N_TRAIN,
         help="training digits used (drawn by seed from the 60,000)"),
    Prop("validation_split", float, 0.0, low=0.0, high=0.5,
         help="fraction of the training digits held out for validation"),
    Prop("dropout", float, None, low=0.0, high=0.95, optional=True,
         help="Sets every Dropout layer of the network to this rate (blank: as in the network)."),
    Prop("seed", int, 0, low=0, high=2**31 - 1,
         help="Same seed, same settings: same initial weights, same digits, same order."),
    Prop("probe_index", int, 0, low=0, high=N_TEST - 1,
         help="the test digit whose activations are shown live"),
    Prop("snapshot_interval", float, 0.5, low=0.05, high=10.0,
         help="seconds between live snapshots"),
    Prop("stats_every", int, 25, low=1, high=10_000,
         help="batches between gradient statistics"),
    Prop("test_examples", int, None, low=1, high=N_TEST, optional=True,
         help="test digits evaluated at the end (blank: all 10,000)"),
])
# (low, high) of every number setting, for callers that want the numbers only.
LIMITS = {name: (prop.low, prop.high) for name, prop in PROPS.items()
          if prop.low is not None or prop.high is not None}
# The settings a model recipe has (what TRAINING_DEFAULTS holds per preset).
RECIPE_KEYS = ("optimizer", "learning_rate", "momentum", "lr_schedule", "batch_size", "epochs",
               "train_examples", "validation_split", "dropout", "seed")
# The settings a shareable link may carry.
QUERY_KEYS = ("optimizer", "learning_rate", "lr_schedule", "batch_size", "epochs",
              "train_examples", "validation_split", "dropout", "seed", "probe_index")

# preset name -> what its recipe changes from the rows' defaults. The presets that classify
# MNIST digits; "32×32×3 image, six 5×5 filters" is a shape example, not a classifier.
PRESET_RECIPES: dict[str, dict[str, Any]] = {
    # Tuned for the time-to-99 % bar (bench/bench_time_to_accuracy.py): batch 128, a high
    # one-cycle learning rate (warm-up to 8e-3, then cosine decay; 2e-3 and 4e-3 peaks stayed
    # under 99 % after two epochs, 1.2e-2 was no better) and three epochs: two gave only
    # 99.00-99.16 % over seeds, three gave 99.14-99.20 % (seeds 0-2) in ~26 s on a quiet
    # 2-core machine, well inside the 60 s bar. Streaming or not, jit_compile off, plain
    # arrays into fit (a tf.data pipeline with cache/prefetch measured no faster here).
    "Fast MNIST CNN": {"optimizer": "Adam", "learning_rate": 8e-3, "lr_schedule": "one-cycle",
                       "batch_size": 128, "epochs": 3},
    # The course's recipes: Adam 0.001, batch 100, 15 epochs.
    "Course CNN (2 conv)": {"epochs": 15},
    "Course deep CNN (3 conv)": {"epochs": 15},
    "Keras Sequential CNN": {"batch_size": 128, "epochs": 12, "validation_split": 0.1},
    # ConvNetJS' trainer: Adadelta, batch 20 (it also used l2_decay 0.001, not modelled here).
    "ConvNetJS MNIST demo": {"optimizer": "Adadelta", "learning_rate": 1.0, "batch_size": 20,
                             "epochs": 2},
}


def _recipe(changes: Mapping[str, Any]) -> dict[str, Any]:
    defaults = PROPS.defaults()
    return {key: changes.get(key, defaults[key]) for key in RECIPE_KEYS}


# preset name -> its full recipe (every key of RECIPE_KEYS).
TRAINING_DEFAULTS: dict[str, dict[str, Any]] = {name: _recipe(changes)
                                                for name, changes in PRESET_RECIPES.items()}


def training_defaults(name_or_spec: Union[str, dict, None] = None) -> dict[str, Any]:
    """A fresh recipe dict: the preset's TRAINING_DEFAULTS (``None``: the default preset's), or
    the generic one for a custom spec or an unknown name."""
    if name_or_spec is None:
        name_or_spec = DEFAULT_PRESET
    if isinstance(name_or_spec, str) and name_or_spec in TRAINING_DEFAULTS:
        return dict(TRAINING_DEFAULTS[name_or_spec])
    return _recipe({})


def default_settings(preset: str) -> dict[str, Any]:
    """The settings form's starting values for a preset (or CUSTOM): every setting, plus
    ``preset``."""
    return {**PROPS.defaults(), **training_defaults(preset), "preset": preset}


def check_mnist_spec(spec: dict) -> dict:
    """Validate a network spec for MNIST: 1 channel, at most 28×28, a 10-way softmax output.

    Returns the validated spec; raises ValueError with a one-line reason."""
    spec = network.validate(spec)
    h, w, c = spec["input_shape"]
    if c != 1 or h > MNIST_INPUT_SHAPE[0] or w > MNIST_INPUT_SHAPE[1]:
        raise ValueError(f"input_shape must be at most 28×28×1 for MNIST, got {h}×{w}×{c}")
    if network.output_shape(spec) != (N_CLASSES,):
        raise ValueError(f"the network must end with 10 outputs (one per digit), got "
                         f"{network.output_shape(spec)}")
    last = spec["layers"][-1]
    if last["type"] != "Dense" or last.get("activation") != "softmax":
        raise ValueError("the last layer must be Dense with 10 units and softmax activation")
    return spec


def trainable_presets() -> list[str]:
    """Preset names that classify 28×28 digits (not the shape-only examples)."""
    names = []
    for name in network.PRESETS:
        try:
            check_mnist_spec(network.preset(name))
        except ValueError:
            continue
        names.append(name)
    return names


def _network(raw: Mapping[str, Any]) -> tuple[str, Optional[dict]]:
    """(preset, spec): spec is the checked custom network, or None for a preset."""
    preset = raw.get("preset")
    if preset == CUSTOM or (preset not in network.PRESETS and raw.get("spec")):
        spec = raw.get("spec")
        if isinstance(spec, str):
            spec = network.from_json(spec)
        if not isinstance(spec, dict):
            raise ValueError("a custom network needs a spec (paste the Shape Lab's JSON)")
        return CUSTOM, check_mnist_spec(spec)
    if preset in network.PRESETS:
        check_mnist_spec(network.preset(preset))
        return preset, None
    raise ValueError(f"preset must be one of {', '.join(network.PRESETS)}, got {preset!r}")


def normalize_settings(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A complete, checked copy of a run's settings. Raises ValueError with a one-line message.

    Keys: preset (a name in network.PRESETS, or CUSTOM with ``spec``), spec (dict or None),
    then every row of PROPS. A setting left out takes the preset's recipe
    (``training_defaults``), else the row's default.
    """
    if not isinstance(raw, Mapping):
        raise ValueError("settings must be a dict")
    preset, spec = _network(raw)
    given = {name: value for name, value in raw.items() if name in PROPS}
    out: dict[str, Any] = {"preset": preset, "spec": spec}
    out.update(PROPS.check({**default_settings(preset), **given}))
    if out["train_examples"] - round(out["train_examples"] * out["validation_split"]) < 1:
        raise ValueError("validation_split leaves no training examples")
    return out


def settings_from_query(params: Mapping[str, Any], defaults: Mapping[str, Any]
                        ) -> tuple[dict[str, Any], list[str]]:
    """Settings carried in the page's URL (shareable), laid over ``defaults``.

    params: a mapping of str -> str (st.query_params). Each value of QUERY_KEYS is checked on
    its own; a bad one keeps its default and is named in the returned one-line problems.
    """
    given = {key: params[key] for key in QUERY_KEYS if key in params}
    return PROPS.from_query(given, base=defaults, message="{error}")
