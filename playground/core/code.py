"""A network spec read from pasted code (``network_from_code``), and TensorFlow 1 code written
from a spec (``tf1_code``; ``network.keras_code`` writes Keras).

Two ways the course writes a network are read:

* Keras: ``model = keras.Sequential()`` then ``model.add(keras.layers.Conv2D(...))``,
  ``keras.Sequential([...])``, the functional ``x = layers.Conv2D(...)(x)``, and TensorFlow 1's
  ``tf.layers.conv2d(inputs, 32, [3, 3], ...)``; imports and aliases (``from keras.layers import
  Conv2D``, ``from tensorflow.keras import layers``) are followed;
* TensorFlow 1 layer stacks: ``tf.placeholder``, ``tf.reshape``, ``tf.Variable(tf.random_normal
  ([3, 3, 1, 32]))`` / ``tf.get_variable(shape=...)``, ``tf.nn.conv2d``, ``tf.nn.relu``,
  ``tf.nn.max_pool``, ``tf.nn.dropout``, ``tf.matmul(L, W) + b``, followed through the
  variables' names. The network is the longest chain of layers found (a loss or an accuracy
  built on it adds none).

The text is parsed with :mod:`ast` and **never executed**: names are only looked at. The
source's size and the syntax tree's depth are capped before anything is walked, numbers are
bounded, and what cannot be read (an unknown layer, an import of another module, ``exec``,
``open``, a dunder attribute) is refused with a one-line ``ValueError`` naming the line.

Simplifications: a flat input ``(n,)`` becomes ``(1, 1, n)`` (the spec's input is H×W×C; Dense
acts on the last axis, so the parameter counts are Keras' own); a TensorFlow 1 convolution or
``matmul`` without a bias becomes a layer with one (the spec's layers always have one);
``tf.nn.relu`` right after a convolution or ``matmul`` becomes that layer's activation; a
``keep_prob`` placeholder's rate is read from the first ``feed_dict`` that gives it a value
below 1 (the training one), else Dropout's default 0.5; a TensorFlow 1 pooling whose strides
equal its window is written without strides (the same layer).
"""
from __future__ import annotations

import ast
import math
import warnings
from typing import Any

from playground.core import network
from playground.core.code_export import tf1_code  # noqa: F401 (its public home)
from playground.core.code_values import (
    ACTIVATION_NAMES,
    ALLOWED_IMPORTS,
    CLASS_ALIASES,
    FORBIDDEN,
    KERAS_LAYERS,
    MAX_CHARS,
    MAX_DEPTH,
    MAX_LINES,
    MAX_NUMBER,
    TF_LAYERS,
    UNKNOWN,
    Chain,
    KeepProb,
    Layer,
    Method,
    Model,
    Poison,
    Ref,
    Refused,
    Weight,
    add_layer,
    apply_layer,
    canonical_path,
    chain_of_model,
    keras_option,
    make_layer,
    padding_of,
    pair_of,
    refuse,
    reshape_chain,
    set_activation,
    shape_text,
    short_text,
    size_of,
)
from playground.i18n import _

_DEFAULT_NAMES = {"tf": "tensorflow", "tensorflow": "tensorflow", "keras": "keras",
                  "layers": "keras.layers", "Sequential": "keras.Sequential",
                  "Input": "keras.Input"}
_WEIGHT_MAKERS = {"tensorflow.random_normal", "tensorflow.truncated_normal",
                  "tensorflow.random_truncated_normal", "tensorflow.random_uniform",
                  "tensorflow.zeros", "tensorflow.ones", "tensorflow.constant"}
# Calls that read a network's output without adding a layer (losses, metrics, sessions).
_READERS = ("loss", "cross_entropy", "reduce_", "argmax", "equal", "cast", "train.",
            "optimizers", "metrics", "summary", "Session", "print", "Model", "accuracy",
            "shape", "run", "eval", "global_variables", "identity", "len", "str")


def network_from_code(text: str) -> dict:
    """The validated network spec a Keras Sequential model or TensorFlow 1 layer stack builds.

    ``text``: Python source (str, at most MAX_CHARS characters). Returns a spec as
    :func:`playground.core.network.validate` returns it. Raises ``ValueError`` with a one-line
    message ("line 7: tf.nn.lrn is not a layer the playground knows") for code it refuses.
    Nothing in ``text`` is ever run.
    """
    if not isinstance(text, str):
        raise Refused(_("the code must be text"))
    if len(text) > MAX_CHARS:
        raise Refused(_("the code has {count} characters; the playground reads at most "
                        "{limit}", count=f"{len(text):,}", limit=f"{MAX_CHARS:,}"))
    if text.count("\n") >= MAX_LINES:
        raise Refused(_("the code has more than {limit} lines", limit=f"{MAX_LINES:,}"))
    tree = _parse(text)
    _check(tree)
    try:
        return _Reader(tree).network()
    except RecursionError:
        raise Refused(_("the code is nested too deeply to read")) from None


def _parse(text: str) -> ast.Module:
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" and the like: not ours
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except SyntaxError as err:
        raise Refused(_("line {line}: Python cannot read this line ({error})",
                        line=err.lineno or 1, error=str(err.msg)[:80])) from None
    except (RecursionError, MemoryError):
        raise Refused(_("the code is nested too deeply to read")) from None
    except ValueError as err:  # a null byte, an integer of too many digits
        raise Refused(_("the code cannot be read: {error}", error=str(err)[:80])) from None


def _check(tree: ast.Module):
    """Refuse what must not be in pasted code, and trees too deep to walk (iteratively: the
    walk itself cannot overflow)."""
    stack = [(tree, 0, 1)]
    while stack:
        node, depth, line = stack.pop()
        line = getattr(node, "lineno", line)
        if depth > MAX_DEPTH:
            refuse(line, _("this line is nested too deeply"))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            for module in modules:
                if getattr(node, "level", 0) or module.split(".")[0] not in ALLOWED_IMPORTS:
                    refuse(line, _("only tensorflow and keras may be imported, not {module}",
                                    module=module[:40] or "."))
        elif isinstance(node, ast.Name) and (node.id in FORBIDDEN or (
                node.id.startswith("__") and node.id != "__name__")):
            refuse(line, _("{name} is not allowed: the playground reads code, it never runs "
                            "it", name=node.id[:40]))
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            refuse(line, _("{name} is not allowed: the playground reads code, it never runs "
                            "it", name=node.attr[:40]))
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex)) \
                and not isinstance(node.value, bool) and not _small(node.value):
            refuse(line, _("a number too large for a network ({value})",
                            value=_short_number(node.value)))
        stack.extend((child, depth + 1, line) for child in ast.iter_child_nodes(node))


def _small(value) -> bool:
    if isinstance(value, complex):
        return False
    return math.isfinite(value) and abs(value) <= MAX_NUMBER if isinstance(value, float) \
        else -MAX_NUMBER <= value <= MAX_NUMBER


def _short_number(value) -> str:
    if isinstance(value, int):
        return f"{value.bit_length()}-bit integer"
    return short_text(value)


def _written(node: ast.AST) -> str:
    """A call's function as written ('tf.nn.lrn'), for messages."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        text = ".".join(reversed(parts))
        return text if len(text) <= 60 else text[:59] + "…"
    return _("this call")


def _feeds(tree: ast.Module) -> dict[str, float]:
    """{placeholder name: the first value below 1 a dict (a feed_dict) gives it}."""
    found: dict[str, float] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Name) and isinstance(value, ast.Constant) and \
                        isinstance(value.value, (int, float)) and \
                        not isinstance(value.value, bool) and 0 < value.value < 1:
                    found.setdefault(key.id, float(value.value))
    return found


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _rate(value: float) -> float:
    """1 − keep_prob without float noise (1 − 0.7 is 0.30000000000000004)."""
    return float(f"{1.0 - value:.12g}")


class _Reader:
    """Follows the module's statements in order; names are bound to the values above."""

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.env: dict[str, Any] = {}
        self.found: list = []
        self.seen: set[int] = set()
        self.feeds = _feeds(tree)

    # -- statements ------------------------------------------------------------------------
    def network(self) -> dict:
        self.run(self.tree.body)
        candidates = []
        for order, value in enumerate(self.found):
            if isinstance(value, Model):
                value = chain_of_model(value) if value.items else None
            if isinstance(value, (Chain, Poison)):
                candidates.append((value.depth, isinstance(value, Chain), order, value))
        if not candidates or max(candidates, key=lambda c: c[:3])[0] == 0:
            raise Refused(_("no network found: paste a keras.Sequential model or a TensorFlow 1 "
                            "layer stack (tf.nn.conv2d, tf.matmul)"))
        best = max(candidates, key=lambda c: c[:3])[3]
        if isinstance(best, Poison):
            raise Refused(best.message)
        return _spec(best)

    def run(self, body: list):
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: ast.stmt):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self.env[alias.asname] = Ref(alias.name)
                else:
                    root = alias.name.split(".")[0]
                    self.env[root] = Ref(root)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if alias.name != "*":
                    self.env[alias.asname or alias.name] = Ref(f"{stmt.module}.{alias.name}")
        elif isinstance(stmt, ast.Assign):
            value = self.ev(stmt.value)
            for target in stmt.targets:
                self.bind(target, value)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.bind(stmt.target, self.ev(stmt.value))
        elif isinstance(stmt, ast.AugAssign):
            self.bind(stmt.target, UNKNOWN)
        elif isinstance(stmt, (ast.Expr, ast.Return)) and stmt.value is not None:
            self.remember(self.ev(stmt.value))
        elif isinstance(stmt, (ast.FunctionDef, ast.With, ast.Try)):
            # def create_model(): ..., with tf.variable_scope(...): ... — read in place.
            self.run(stmt.body)
        elif isinstance(stmt, ast.If) and _is_main(stmt.test):
            self.run(stmt.body)
        # loops, other ifs, classes: training code, not the network's definition

    def bind(self, target: ast.expr, value):
        if isinstance(target, ast.Name):
            if isinstance(value, KeepProb) and value.name is None:
                value = KeepProb(target.id)
            self.env[target.id] = value
            self.remember(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element.value if isinstance(element, ast.Starred) else element,
                          UNKNOWN)

    def remember(self, value):
        if isinstance(value, (Chain, Poison, Model)) and id(value) not in self.seen:
            self.seen.add(id(value))   # (the value stays alive in self.found: ids stay unique)
            self.found.append(value)

    # -- expressions -----------------------------------------------------------------------
    def ev(self, node: ast.expr):
        if isinstance(node, ast.Constant):
            value = node.value
            return value if isinstance(value, (int, float, str, bool)) or value is None \
                else UNKNOWN
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            if node.id in _DEFAULT_NAMES:
                return Ref(_DEFAULT_NAMES[node.id])
            if node.id in KERAS_LAYERS or node.id in CLASS_ALIASES:
                return Ref("keras.layers." + node.id)
            return UNKNOWN
        if isinstance(node, ast.Attribute):
            base = self.ev(node.value)
            if isinstance(base, Ref):
                return Ref(f"{base.path}.{node.attr}")
            if isinstance(base, (Model, Chain, Poison)):
                return Method(base, node.attr)
            return UNKNOWN
        if isinstance(node, (ast.List, ast.Tuple)):
            values = [UNKNOWN if isinstance(e, ast.Starred) else self.ev(e) for e in node.elts]
            return values if isinstance(node, ast.List) else tuple(values)
        if isinstance(node, ast.UnaryOp):
            value = self.ev(node.operand)
            if _number(value) and isinstance(node.op, (ast.USub, ast.UAdd)):
                return -value if isinstance(node.op, ast.USub) else value
            return UNKNOWN
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        return UNKNOWN

    def binop(self, node: ast.BinOp):
        left, right = self.ev(node.left), self.ev(node.right)
        line = node.lineno
        if _number(left) and _number(right):
            return _arithmetic(node.op, left, right, line)
        if isinstance(node.op, ast.Add):
            if isinstance(left, Weight) and isinstance(right, (Chain, Poison)):
                left, right = right, left
            if isinstance(left, (Chain, Poison)) and isinstance(right, Weight):
                return _bias(left, right, line)
            if isinstance(left, (Chain, Poison)) and isinstance(right, (Chain, Poison)):
                return Poison(max(left.depth, right.depth) + 1, _(
                    "line {line}: adding two tensors (a shortcut) is beyond a Sequential "
                    "network", line=line))
        # Scaling a tensor by a number (x / 255.0) changes no shape.
        for tensor, other in ((left, right), (right, left)):
            if isinstance(tensor, (Chain, Poison)) and _number(other):
                return tensor
        return UNKNOWN

    def call(self, node: ast.Call):
        func = self.ev(node.func)
        written = _written(node.func)
        args = [UNKNOWN if isinstance(a, ast.Starred) else self.ev(a) for a in node.args]
        kwargs = {k.arg: self.ev(k.value) for k in node.keywords if k.arg is not None}
        line = node.lineno
        if isinstance(func, Ref):
            return self.call_ref(canonical_path(func.path), written, args, kwargs, line)
        if isinstance(func, Layer):                      # layers.Dense(10)(x)
            tensor = self.tensor(args[0] if args else kwargs.get("inputs"), line, written)
            return self.apply(func, tensor, line)
        if isinstance(func, Method) and isinstance(func.owner, Model) and func.name == "add":
            self.model_add(func.owner, args[0] if args else kwargs.get("layer"), line, written)
            return UNKNOWN
        return self.other(written, args, kwargs, line)

    def other(self, written: str, args: list, kwargs: dict, line: int):
        """A call the reader does not know: a loss or metric reads the network; anything else
        given a tensor is a layer the playground does not have."""
        tensors = [v for v in (*args, *kwargs.values()) if isinstance(v, (Chain, Poison))]
        if not tensors or any(word in written for word in _READERS) or \
                "logits" in kwargs or "labels" in kwargs:
            return UNKNOWN
        return Poison(max(t.depth for t in tensors) + 1, _(
            "line {line}: {name} is not a layer the playground knows", line=line,
            name=written))

    def tensor(self, value, line: int, written: str):
        if isinstance(value, (Chain, Poison)):
            return value
        refuse(line, _("{name}: its input is not a tensor made above", name=written))

    def apply(self, layer: Layer, tensor, line: int):
        if isinstance(tensor, Poison):
            return Poison(tensor.depth + 1, tensor.message)
        return apply_layer(layer, tensor, line)

    def model_add(self, model: Model, item, line: int, written: str):
        if isinstance(item, Chain) and not item.layers:
            item = Layer("Input", {}, item.input_shape, line, written)
        if not isinstance(item, Layer):
            refuse(line, _("{name}: what is added is not a layer the playground knows",
                            name=written))
        model.items.append(item)

    def call_ref(self, path: str, written: str, args: list, kwargs: dict, line: int):
        if path == "keras.Sequential":
            model = Model(line)
            items = args[0] if args else kwargs.get("layers")
            if items is not None:
                if not isinstance(items, (list, tuple)):
                    refuse(line, _("keras.Sequential takes a list of layers"))
                for item in items:
                    self.model_add(model, item, line, written)
            return model
        if path in ("keras.Input", "keras.layers.Input", "keras.layers.InputLayer"):
            layer = make_layer(path.rsplit(".", 1)[1], args, kwargs, line, written)
            return Chain(layer.input_shape, (), layer.input_shape)
        if path.startswith("keras.layers."):
            return make_layer(path.rsplit(".", 1)[1], args, kwargs, line, written)
        if path.startswith(("keras.initializers.", "keras.regularizers.")):
            return keras_option(path, args, kwargs, line, written)
        if path.startswith("tensorflow.layers.") and path[18:] in TF_LAYERS:
            inputs = args[0] if args else kwargs.get("inputs")
            kwargs = {k: v for k, v in kwargs.items() if k != "inputs"}
            layer = make_layer(TF_LAYERS[path[18:]], args[1:], kwargs, line, written)
            if layer.fields.get("strides") is not None and \
                    layer.fields.get("strides") == layer.fields.get("pool_size"):
                layer.fields["strides"] = None  # tf.layers' pools must be given strides
            return self.apply(layer, self.tensor(inputs, line, written), line)
        name = path.rsplit(".", 1)[-1]
        if name in ACTIVATION_NAMES and path.startswith(
                ("tensorflow.nn.", "keras.activations.", "tensorflow.math.")) or \
                path in ("tensorflow.sigmoid", "tensorflow.tanh"):
            tensor = self.tensor(_arg(args, kwargs, 0, "features", "x", "logits"), line, written)
            if isinstance(tensor, Poison):
                return Poison(tensor.depth + 1, tensor.message)
            return set_activation(tensor, name, line, written)
        handler = _TF.get(path)
        if handler is not None:
            return handler(self, args, kwargs, line, written)
        return self.other(written, args, kwargs, line)

    # -- TensorFlow 1 --------------------------------------------------------------------------
    def placeholder(self, args, kwargs, line, written):
        shape = _arg(args, kwargs, 1, "shape")
        if shape is None or shape == [] or shape == ():
            return KeepProb(None)
        if not isinstance(shape, (list, tuple)) or not 2 <= len(shape) <= 4 or \
                shape[0] not in (None, -1) or any(not _number(v) for v in shape[1:]):
            refuse(line, _("{name}: the shape must be [None, n] or [None, H, W, C], got "
                            "{value}", name=written, value=short_text(shape)))
        dims = tuple(size_of(v, line, "shape") for v in shape[1:])
        return Chain(dims, (), dims)

    def reshape(self, args, kwargs, line, written):
        tensor = self.tensor(_arg(args, kwargs, 0, "tensor"), line, written)
        shape = _arg(args, kwargs, 1, "shape")
        if isinstance(tensor, Poison):
            return Poison(tensor.depth + 1, tensor.message)
        if not isinstance(shape, (list, tuple)) or not shape or \
                any(not (_number(v) or v is None) for v in shape):
            refuse(line, _("{name}: the shape must be a list of numbers", name=written))
        dims = list(shape[1:]) if shape[0] in (None, -1) else list(shape)
        return reshape_chain(tensor, dims, line, written)

    def weight(self, args, kwargs, line, written):
        shape = _arg(args, kwargs, 0, "shape")
        if written.endswith("constant") or written.endswith("get_variable"):
            shape = kwargs.get("shape", args[1] if len(args) > 1 else None)
        if isinstance(shape, (list, tuple)) and shape and all(_number(v) for v in shape):
            return Weight(tuple(size_of(v, line, "shape") for v in shape))
        return UNKNOWN

    def variable(self, args, kwargs, line, written):
        value = _arg(args, kwargs, 0, "initial_value")
        return value if isinstance(value, Weight) else UNKNOWN

    def conv2d(self, args, kwargs, line, written):
        tensor = self.tensor(_arg(args, kwargs, 0, "input"), line, written)
        weight = _arg(args, kwargs, 1, "filter", "filters")
        if isinstance(tensor, Poison):
            return Poison(tensor.depth + 1, tensor.message)
        if not isinstance(weight, Weight) or len(weight.shape) != 4:
            refuse(line, _("{name}: its filter must be a variable of shape [height, width, "
                            "in channels, filters]", name=written))
        kh, kw, channels, filters = weight.shape
        if len(tensor.shape) == 3 and channels != tensor.shape[-1]:
            refuse(line, _("{name}: the filter is for {filter_channels} input channels, its "
                            "input has {channels}", name=written, filter_channels=channels,
                            channels=tensor.shape[-1]))
        layer = {"type": "Conv2D", "filters": filters, "kernel_size": [kh, kw],
                 "strides": pair_of(_arg(args, kwargs, 2, "strides", default=1), line,
                                     "strides"),
                 "padding": padding_of(_arg(args, kwargs, 3, "padding"), line),
                 "dilation": pair_of(kwargs.get("dilations", 1), line, "dilations"),
                 "activation": None}
        return add_layer(tensor, layer, line)

    def pool(self, args, kwargs, line, written):
        tensor = self.tensor(_arg(args, kwargs, 0, "value", "input"), line, written)
        if isinstance(tensor, Poison):
            return Poison(tensor.depth + 1, tensor.message)
        size = pair_of(_arg(args, kwargs, 1, "ksize"), line, "ksize")
        strides = pair_of(_arg(args, kwargs, 2, "strides"), line, "strides")
        kind = "AveragePool2D" if "avg" in written else "MaxPool2D"
        return add_layer(tensor, {"type": kind, "pool_size": size,
                             "strides": None if strides == size else strides,
                             "padding": padding_of(_arg(args, kwargs, 3, "padding"), line)}, line)

    def dropout(self, args, kwargs, line, written):
        tensor = self.tensor(_arg(args, kwargs, 0, "x"), line, written)
        if isinstance(tensor, Poison):
            return Poison(tensor.depth + 1, tensor.message)
        default = network.LAYER_DEFAULTS["Dropout"]["rate"]
        if "rate" in kwargs:
            rate = kwargs["rate"]
            if isinstance(rate, KeepProb):
                rate = self.feeds.get(rate.name, default)
        else:
            keep = _arg(args, kwargs, 1, "keep_prob")
            if isinstance(keep, KeepProb):
                keep = self.feeds.get(keep.name, 1.0 - default)
            if not _number(keep):
                refuse(line, _("{name}: keep_prob must be a number or a placeholder",
                                name=written))
            rate = _rate(keep)
        if not _number(rate):
            refuse(line, _("{name}: rate must be a number", name=written))
        return add_layer(tensor, {"type": "Dropout", "rate": rate}, line)

    def matmul(self, args, kwargs, line, written):
        tensor = self.tensor(_arg(args, kwargs, 0, "a"), line, written)
        weight = _arg(args, kwargs, 1, "b")
        if isinstance(tensor, Poison):
            return Poison(tensor.depth + 1, tensor.message)
        if not isinstance(weight, Weight) or len(weight.shape) != 2:
            refuse(line, _("{name}: its second argument must be a variable of shape [inputs, "
                            "units]", name=written))
        if len(tensor.shape) != 1:
            refuse(line, _("{name}: its input is {shape}; flatten it first with "
                            "tf.reshape(x, [-1, {size}])", name=written,
                            shape=shape_text(tensor.shape), size=math.prod(tensor.shape)))
        if weight.shape[0] != tensor.shape[0]:
            refuse(line, _("{name}: the weights take {inputs} inputs, its input has {size}",
                            name=written, inputs=weight.shape[0], size=tensor.shape[0]))
        return add_layer(tensor, {"type": "Dense", "units": weight.shape[1], "activation": None},
                    line)

    def add(self, args, kwargs, line, written):
        left, right = _arg(args, kwargs, 0, "x", "value"), _arg(args, kwargs, 1, "y", "bias")
        if isinstance(left, (Chain, Poison)) and isinstance(right, Weight):
            return _bias(left, right, line)
        return self.other(written, args, kwargs, line)


_TF = {"tensorflow.placeholder": _Reader.placeholder, "tensorflow.reshape": _Reader.reshape,
       "tensorflow.Variable": _Reader.variable, "tensorflow.get_variable": _Reader.weight,
       **{path: _Reader.weight for path in _WEIGHT_MAKERS},
       "tensorflow.nn.conv2d": _Reader.conv2d, "tensorflow.nn.max_pool": _Reader.pool,
       "tensorflow.nn.avg_pool": _Reader.pool, "tensorflow.nn.dropout": _Reader.dropout,
       "tensorflow.matmul": _Reader.matmul, "tensorflow.add": _Reader.add,
       "tensorflow.nn.bias_add": _Reader.add}


def _is_main(test: ast.expr) -> bool:
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and \
        test.left.id == "__name__"


def _arg(args: list, kwargs: dict, index: int, *names: str, default=None):
    for name in names:
        if name in kwargs:
            return kwargs[name]
    return args[index] if len(args) > index else default


def _arithmetic(op: ast.operator, left, right, line: int):
    try:
        if isinstance(op, ast.Add):
            value = left + right
        elif isinstance(op, ast.Sub):
            value = left - right
        elif isinstance(op, ast.Mult):
            value = left * right
        elif isinstance(op, ast.FloorDiv):
            value = left // right
        elif isinstance(op, ast.Div):
            value = left / right
        elif isinstance(op, ast.Pow) and abs(right) <= 64 and abs(left) <= 10 ** 6:
            value = left ** right
        elif isinstance(op, ast.Pow):
            refuse(line, _("a number too large for a network ({value})",
                           value=f"{short_text(left)} ** {short_text(right)}"))
        else:
            return UNKNOWN
    except (ZeroDivisionError, OverflowError):
        refuse(line, _("this arithmetic cannot be done ({value})", value=short_text(left)))
    if isinstance(value, complex) or not (math.isfinite(value) and abs(value) <= MAX_NUMBER):
        refuse(line, _("a number too large for a network ({value})", value=short_text(value)))
    return value


def _bias(tensor, weight: Weight, line: int):
    """A TensorFlow 1 bias added to a convolution's or matmul's output: the layer has one."""
    if isinstance(tensor, Poison):
        return tensor
    last = tensor.layers[-1] if tensor.layers else None
    if last is None or last["type"] not in ("Conv2D", "Dense") or last["activation"]:
        refuse(line, _("a bias must follow tf.nn.conv2d or tf.matmul"))
    if weight.shape != tensor.shape[-1:]:
        refuse(line, _("the bias has shape {bias}, the layer gives {units} outputs",
                        bias=short_text(list(weight.shape)), units=tensor.shape[-1]))
    return tensor


def _spec(chain: Chain) -> dict:
    """The validated spec of a chain; a flat input (n,) becomes (1, 1, n), (h, w) (h, w, 1)."""
    if chain.pad is not None:
        raise Refused(_("ZeroPadding2D must be followed by a Conv2D with padding='valid'"))
    shape = list(chain.input_shape)
    shape = [1] * (3 - len(shape)) + shape if len(shape) == 1 else \
        shape + [1] * (3 - len(shape))
    try:
        return network.validate({"input_shape": shape,
                                 "layers": [dict(layer) for layer in chain.layers]})
    except ValueError as err:
        raise Refused(str(err)) from None
