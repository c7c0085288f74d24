"""Every training setting declared once, and the checks a run's settings pass before it starts.

One ``Prop`` row per setting (type, default, bounds, choices, help): the Training page's
widgets take their ranges from it, links are read through it (``settings_from_query``) and a
run's settings are checked with it (``normalize_settings``). The per-preset recipes
(``TRAINING_DEFAULTS``) override some of the rows' defaults.

No TensorFlow here (nor in anything this imports): the Training page shows its form from this
module alone, and TensorFlow starts only in a training or evaluation process.
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Optional, Sequence, Union

from playground.core import network, shapes
from playground.datasets.registry import REGISTRY, dataset_names
from playground.i18n import N_, _
from playground.settings import Prop, Props

N_TRAIN, N_TEST = 60_000, 10_000      # the largest data set's training and test pictures
MNIST_INPUT_SHAPE = (28, 28, 1)
N_CLASSES = 10
PICTURES = "pictures"  # the learner's own pictures (a zip or classes built on the page)
DATASETS = tuple(dataset_names()) + (PICTURES,)

OPTIMIZERS = ("Adam", "SGD", "SGD+momentum", "RMSprop", "Adadelta")
# Each optimizer's usual starting point. Adadelta is meant to run at 1.0 (Zeiler 2012, and
# ConvNetJS); Keras' own default of 0.001 barely moves it.
DEFAULT_LEARNING_RATES = {"Adam": 1e-3, "SGD": 0.01, "SGD+momentum": 0.01, "RMSprop": 1e-3,
                          "Adadelta": 1.0}
LR_SCHEDULES = ("constant", "one-cycle")

DEFAULT_PRESET = "Fast MNIST CNN"
CUSTOM = N_("Custom network (spec JSON)")   # N_: the menus show names through _

# The defaults here are the generic recipe (a custom network from the Shape Lab); a preset's
# own recipe is in PRESET_RECIPES. The bounds are what a run accepts, and the page's widgets
# take the same ones: a value from the address that a widget's own range refused would stop
# the page with an error.
PROPS = Props([
    Prop("dataset", str, "mnist", choices=DATASETS,
         help=N_("what the network learns to classify")),
    Prop("optimizer", str, "Adam", choices=OPTIMIZERS, help=N_("Keras optimizer")),
    Prop("learning_rate", float, 1e-3, low=1e-7, high=10.0,
         help=N_("the optimizer's rate (the peak of a one-cycle schedule)")),
    Prop("momentum", float, 0.9, low=0.0, high=0.999, help=N_("only SGD+momentum uses it")),
    Prop("lr_schedule", str, "constant", choices=LR_SCHEDULES,
         help=N_("one-cycle: warm up to the rate, then a cosine decay (the fast preset's "
                 "recipe).")),
    Prop("batch_size", int, 100, low=1, high=8192),
    Prop("epochs", int, 5, low=1, high=200),
    Prop("train_examples", int, N_TRAIN, low=10, high=N_TRAIN,
         help=N_("training pictures used, drawn by seed (at most as many as the data set has)")),
    Prop("validation_split", float, 0.0, low=0.0, high=0.5,
         help=N_("fraction of the training pictures held out for validation")),
    Prop("dropout", float, None, low=0.0, high=0.95, optional=True,
         help=N_("Sets every Dropout layer of the network to this rate (blank: as in the "
                 "network).")),
    Prop("seed", int, 0, low=0, high=2**31 - 1,
         help=N_("Same seed, same settings: same initial weights, same pictures, same order.")),
    Prop("probe_index", int, 0, low=0, high=N_TEST - 1,
         help=N_("the test picture whose activations are shown live")),
    Prop("snapshot_interval", float, 0.5, low=0.05, high=10.0,
         help=N_("seconds between live snapshots")),
    Prop("stats_every", int, 25, low=1, high=10_000,
         help=N_("batches between gradient statistics")),
    Prop("test_examples", int, None, low=1, high=N_TEST, optional=True,
         help=N_("test pictures evaluated at the end (blank: all of them)")),
])
# (low, high) of every number setting, for callers that want the numbers only.
LIMITS = {name: (prop.low, prop.high) for name, prop in PROPS.items()
          if prop.low is not None or prop.high is not None}
# The settings a model recipe has (what TRAINING_DEFAULTS holds per preset).
RECIPE_KEYS = ("optimizer", "learning_rate", "momentum", "lr_schedule", "batch_size", "epochs",
               "train_examples", "validation_split", "dropout", "seed")
# The settings a shareable link may carry.
QUERY_KEYS = ("dataset", "optimizer", "learning_rate", "lr_schedule", "batch_size", "epochs",
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
    N_("Fast MNIST CNN"): {"optimizer": "Adam", "learning_rate": 8e-3, "lr_schedule": "one-cycle",
                       "batch_size": 128, "epochs": 3},
    # The course's recipes: Adam 0.001, batch 100, 15 epochs.
    N_("Course CNN (2 conv)"): {"epochs": 15},
    N_("Course deep CNN (3 conv)"): {"epochs": 15},
    N_("Keras Sequential CNN"): {"batch_size": 128, "epochs": 12, "validation_split": 0.1},
    # ConvNetJS' trainer: Adadelta, batch 20 (it also used l2_decay 0.001, not modelled here).
    N_("ConvNetJS MNIST demo"): {"optimizer": "Adadelta", "learning_rate": 1.0, "batch_size": 20,
                             "epochs": 2},
    # For the Fashion-MNIST bar (>= 92 % in <= 60 s, bench/bench_time_to_accuracy.py
    # --dataset fashion_mnist): batch norm after each conv let it pass 92 % after 4 epochs
    # (without it, 5-6 epochs of the same layout stayed at ~91 %), but an epoch takes ~22 s on
    # 2 cores, so the 60 s bar is not met.
    N_("Fast Fashion-MNIST CNN"): {"optimizer": "Adam", "learning_rate": 4e-3,
                               "lr_schedule": "one-cycle", "batch_size": 128, "epochs": 4},
    # The course's Keras CIFAR-10 version: plain SGD, 5 epochs.
    N_("Course CIFAR-10 CNN"): {"optimizer": "SGD", "learning_rate": 0.01, "batch_size": 32,
                            "epochs": 5},
    # Tuned for the generated shapes' bar (>= 95 % in <= 30 s).
    N_("Fast colour CNN"): {"optimizer": "Adam", "learning_rate": 5e-3, "lr_schedule": "one-cycle",
                        "batch_size": 64, "epochs": 6},
}
# Each data set's default network (the first offered) and the data set each preset was made
# for (the preset's recipe is tuned there).
DEFAULT_PRESETS = {"mnist": "Fast MNIST CNN", "fashion_mnist": "Fast Fashion-MNIST CNN",
                   "cifar10": "Fast colour CNN", "shapes": "Fast colour CNN",
                   PICTURES: "Fast colour CNN"}
HOME_DATASETS = {"Fast Fashion-MNIST CNN": "fashion_mnist", "Course CIFAR-10 CNN": "cifar10",
                 "Fast colour CNN": "shapes"}  # the others: "mnist"


def home_dataset(preset: str) -> str:
    """The data set a preset was made for (its recipe is tuned there)."""
    return HOME_DATASETS.get(preset, "mnist")


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


class DataInfo(NamedTuple):
    """What the settings need to know about a data set before it is loaded."""
    name: str
    title: str
    input_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    n_train: int
    n_test: int

    @property
    def what(self) -> str:
        """How messages call its pictures."""
        return "digits" if self.name == "mnist" else "pictures"


def data_info(name: str, data: Any = None) -> DataInfo:
    """The DataInfo of a registered data set, or of ``data`` (a ``Dataset`` of the learner's
    own pictures) for PICTURES. ValueError for an unknown name or PICTURES without data."""
    if name == PICTURES:
        if data is None:
            raise ValueError(_("dataset: your own pictures need a zip or classes built on "
                               "the page first"))
        return DataInfo(PICTURES, N_("Your own pictures"), tuple(data.input_shape),
                        tuple(data.class_names), len(data.y_train), len(data.y_test))
    if name not in REGISTRY:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    entry = REGISTRY[name]
    return DataInfo(name, entry.title, tuple(entry.input_shape), tuple(entry.class_names),
                    entry.n_train, entry.n_test)


MNIST = data_info("mnist")


def input_fit(want: Sequence[int], have: Sequence[int], what: str = "digits") -> bool:
    """True when images of shape ``have`` (H, W, C) need a centre crop to ``want`` (the
    network's input), False when the shapes agree; ValueError (one line) when they cannot be
    fed: another number of channels, or a network larger than the pictures."""
    want, have = tuple(int(v) for v in want), tuple(int(v) for v in have)
    if want == have:
        return False
    shown = shapes.shape_text(want)
    if want[2] != have[2]:
        raise ValueError(_("input_shape: the network expects {shape} images but the data has "
                           "{channels} channel(s) ({data_shape})", shape=shown,
                           channels=have[2], data_shape=shapes.shape_text(have)))
    if want[0] > have[0] or want[1] > have[1]:
        size = "×".join(map(str, have))
        if what == "digits":
            raise ValueError(_("input_shape: the network expects {shape} images, larger than "
                               "the {size} digits", shape=shown, size=size))
        raise ValueError(_("input_shape: the network expects {shape} images, larger than the "
                           "{size} pictures", shape=shown, size=size))
    return True


# What one training run here can hold: a layer's output for one picture (a transposed
# convolution with a large stride multiplies the picture's size), and the parameters. The
# presets stay far below (at most 32,768 values and 619,786 parameters).
MAX_LAYER_VALUES = 1 << 20
MAX_PARAMETERS = 20_000_000


def check_size(spec: dict) -> None:
    """ValueError (one line) when a layer of the validated ``spec`` outputs more than
    MAX_LAYER_VALUES numbers per picture or the network has more than MAX_PARAMETERS: the
    run would not fit in memory."""
    rows = network.layer_rows(spec)
    for row in rows:
        count = 1
        for size in row.output_shape or ():
            count *= size
        if count > MAX_LAYER_VALUES:
            raise ValueError(_("layer {index} ({type}): its output {shape} holds {count} "
                               "numbers per picture, more than the {limit} a run here can "
                               "hold", index=row.index + 1, type=row.type,
                               shape=shapes.shape_text(row.output_shape), count=f"{count:,}",
                               limit=f"{MAX_LAYER_VALUES:,}"))
    total = sum(row.params for row in rows)
    if total > MAX_PARAMETERS:
        raise ValueError(_("the network has {count} parameters, more than the {limit} a run "
                           "here can hold", count=f"{total:,}", limit=f"{MAX_PARAMETERS:,}"))


def check_spec(spec: dict, data: DataInfo = MNIST) -> dict:
    """The validated spec if it can be trained as a classifier of ``data``: its pictures fit
    the input (same channels, at most as large: a smaller input takes the centre), and it ends
    with Dense(number of classes, softmax). Else ValueError with a one-line reason."""
    spec = network.validate(spec)
    input_fit(network.input_shape_of(spec), data.input_shape, data.what)
    check_size(spec)
    n = len(data.class_names)
    out = network.output_shape(spec)
    if out != (n,):
        raise ValueError(_("output: a classifier of {n} classes must end with {n} values, "
                           "this network outputs {out}; end it with Flatten and Dense({n}, "
                           "softmax)", n=n, out=out))
    last = spec["layers"][-1]
    if last["type"] != "Dense" or last.get("activation") != "softmax":
        raise ValueError(_("output: the last layer must be Dense with {n} units and softmax "
                           "activation (the loss expects probabilities)", n=n))
    return spec


def check_mnist_spec(spec: dict) -> dict:
    """``check_spec`` for MNIST digits (28×28×1, 10 classes)."""
    return check_spec(spec, MNIST)


def preset_for(name: str, data: DataInfo = MNIST) -> dict:
    """The preset's spec made for ``data``: its last Dense layer gets one unit per class, and
    for the learner's own pictures its input takes the pictures' size. ValueError (one line)
    when the preset cannot classify these pictures (another number of channels)."""
    spec = network.preset(name)
    last = spec["layers"][-1] if spec["layers"] else {}
    if last.get("type") == "Dense" and last.get("activation") == "softmax":
        last["units"] = len(data.class_names)
    if data.name == PICTURES and spec["input_shape"][2] == data.input_shape[2]:
        spec["input_shape"] = list(data.input_shape)
    return check_spec(spec, data)


def trainable_presets(data: DataInfo = MNIST) -> list[str]:
    """Preset names that can classify ``data`` (not the shape-only examples), its default
    first."""
    names = []
    for name in network.PRESETS:
        try:
            preset_for(name, data)
        except ValueError:
            continue
        names.append(name)
    default = DEFAULT_PRESETS.get(data.name)
    if default in names:
        names.remove(default)
        names.insert(0, default)
    return names


def datasets_for(spec: dict) -> tuple[list[str], str]:
    """The registered data sets a network (a spec, as the Shape Lab's table gives it) can be
    trained on as it is, in menu order; with none, the one-line reason it cannot be trained on
    MNIST (what to change)."""
    fits, reason = [], ""
    for name in REGISTRY:
        try:
            check_spec(spec, data_info(name))
        except ValueError as err:
            reason = reason or str(err)
            continue
        fits.append(name)
    return fits, ("" if fits else reason)


def _network(raw: Mapping[str, Any], data: DataInfo) -> tuple[str, Optional[dict]]:
    """(preset, spec): spec is the checked custom network, or the preset made for ``data``
    (None when the preset is used as it is)."""
    preset = raw.get("preset")
    if preset == CUSTOM or (preset not in network.PRESETS and raw.get("spec")):
        spec = raw.get("spec")
        if isinstance(spec, str):
            spec = network.from_json(spec)
        if not isinstance(spec, dict):
            raise ValueError(_("a custom network needs a spec (paste the Shape Lab's JSON)"))
        return CUSTOM, check_spec(spec, data)
    if preset in network.PRESETS:
        spec = preset_for(preset, data)
        return preset, (None if spec == network.validate(network.preset(preset)) else spec)
    raise ValueError(f"preset must be one of {', '.join(network.PRESETS)}, got {preset!r}")


def normalize_settings(raw: Mapping[str, Any], data: Any = None) -> dict[str, Any]:
    """A complete, checked copy of a run's settings. Raises ValueError with a one-line message.

    Keys: preset (a name in network.PRESETS, or CUSTOM with ``spec``), spec (dict, or None for
    a preset used as it is), then every row of PROPS. A setting left out takes the preset's
    recipe (``training_defaults``), else the row's default. ``data``: the ``Dataset`` of the
    learner's own pictures when ``raw["dataset"]`` is PICTURES. The number of training
    examples, the probe and the test examples are capped at what the data set has.
    """
    if not isinstance(raw, Mapping):
        raise ValueError("settings must be a dict")
    home = home_dataset(raw.get("preset")) if raw.get("preset") in network.PRESETS else "mnist"
    info = data_info(PROPS["dataset"].parse(raw.get("dataset") or home), data)
    preset, spec = _network(raw, info)
    given = {name: value for name, value in raw.items() if name in PROPS}
    out: dict[str, Any] = {"preset": preset, "spec": spec}
    out.update(PROPS.check({**default_settings(preset), **given, "dataset": info.name}))
    out["train_examples"] = min(out["train_examples"], info.n_train)
    if out["probe_index"] >= info.n_test:
        raise ValueError(_("probe_index must be below {count} (the test pictures of {title}), "
                           "got {value}", count=info.n_test, title=_(info.title),
                           value=out["probe_index"]))
    if out["test_examples"] is not None:
        out["test_examples"] = min(out["test_examples"], info.n_test)
    if out["train_examples"] - round(out["train_examples"] * out["validation_split"]) < 1:
        raise ValueError(_("validation_split leaves no training examples"))
    return out


def settings_from_query(params: Mapping[str, Any], defaults: Mapping[str, Any]
                        ) -> tuple[dict[str, Any], list[str]]:
    """Settings carried in the page's URL (shareable), laid over ``defaults``.

    params: a mapping of str -> str (st.query_params). Each value of QUERY_KEYS is checked on
    its own; a bad one keeps its default and is named in the returned one-line problems.
    """
    given = {key: params[key] for key in QUERY_KEYS if key in params}
    return PROPS.from_query(given, base=defaults, message="{error}")
