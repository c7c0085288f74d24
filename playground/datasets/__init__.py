"""Data sets: the registry (``load_dataset``, ``dataset_names``), pictures from a zip
(``dataset_from_zip``), MNIST, and picture decoding with limits (``images``).

Importing this package loads no TensorFlow: only a last-resort Keras download does.
"""
from playground.datasets.base import Dataset, DatasetUnavailable, to_float
from playground.datasets.registry import dataset_entry, dataset_names, load_dataset
from playground.datasets.zip_import import ZipDatasetError, dataset_from_zip

__all__ = ["Dataset", "DatasetUnavailable", "ZipDatasetError", "dataset_entry",
           "dataset_from_zip", "dataset_names", "load_dataset", "to_float"]
