"""Train the small MNIST model that ships with the playground, and write its metadata.

The model is the playground's default network ("Fast MNIST CNN", ``network.preset``) trained
with that preset's own recipe (``settings.TRAINING_DEFAULTS``: Adam, one-cycle to 8e-3, batch
128, 3 epochs) on all 60,000 offline MNIST training digits, seed 0 — exactly what a training
job of the Live Training page does with the default settings (``models.build_for_training``,
``models.training_callbacks``, ``model.fit`` on ``mnist.mnist_slice``'s arrays).

Writes (overwriting):
  playground/assets/pretrained_mnist.keras   the model, saved *without* its optimizer state
                                             (Adam's two moments would triple the file)
  playground/assets/pretrained_mnist.json    spec, preset, recipe, seed, test accuracy on the
                                             10,000 test digits, the command, the file's size
                                             and SHA-256, TensorFlow/Keras versions

Usage (from the repository root; ~1 minute on 2 CPU cores):
  python scripts/train_pretrained.py
  python scripts/train_pretrained.py --seed 1 --epochs 3     # another run, same recipe
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ASSETS = ROOT / "playground" / "assets"
PRESET = "Fast MNIST CNN"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: the preset's recipe (3)")
    parser.add_argument("--train-examples", type=int, default=None,
                        help="default: the recipe's (all 60,000); fewer for a quick check")
    parser.add_argument("--out", type=Path, default=ASSETS / "pretrained_mnist.keras")
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from playground.core import network
    from playground.datasets import mnist
    from playground.training import models
    from playground.training import settings as training_settings

    settings = training_settings.training_defaults(PRESET)
    settings["seed"] = args.seed
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if args.train_examples is not None:
        settings["train_examples"] = args.train_examples
    spec = network.preset(PRESET)
    spec.pop("description", None)
    part = mnist.mnist_slice(settings["train_examples"], settings["validation_split"],
                             settings["seed"])
    start = time.perf_counter()
    model = models.build_for_training(spec, settings)
    steps = math.ceil(len(part.y_train) / settings["batch_size"])
    model.fit(part.x_train, part.y_train, batch_size=settings["batch_size"],
              epochs=settings["epochs"], callbacks=models.training_callbacks(settings, steps),
              verbose=2)
    seconds = time.perf_counter() - start

    # A fresh, uncompiled copy of the same network with the trained weights: saved without
    # the optimizer, the file holds the weights and the description only.
    shipped = models.build_model(spec)
    shipped.set_weights(model.get_weights())
    x_test, y_test = mnist.float_test_set()
    probabilities = shipped.predict(x_test, batch_size=500, verbose=0)
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y_test))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shipped.save(args.out)
    payload = args.out.read_bytes()
    command = "python scripts/train_pretrained.py" + (
        f" --seed {args.seed}" if args.seed else "") + (
        f" --epochs {args.epochs}" if args.epochs is not None else "") + (
        f" --train-examples {args.train_examples}" if args.train_examples is not None else "")
    info = {
        "file": args.out.name,
        "preset": PRESET,
        "spec": spec,
        "dataset": "mnist",
        "class_names": [str(d) for d in range(10)],
        "recipe": {key: settings[key] for key in training_settings.RECIPE_KEYS},
        "seed": args.seed,
        "train_examples": int(len(part.y_train)),
        "test_examples": int(len(y_test)),
        "test_accuracy": round(accuracy, 4),
        "parameters": int(shipped.count_params()),
        "size_bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "command": command,
        "training_seconds": round(seconds, 1),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }
    args.out.with_suffix(".json").write_text(json.dumps(info, indent=2, ensure_ascii=False)
                                             + "\n", encoding="utf-8")
    print(f"{args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}: "
          f"{len(payload) / 1024:.0f} KiB, {info['parameters']:,} parameters, test accuracy "
          f"{100 * accuracy:.2f} % on {len(y_test):,} digits, trained in {seconds:.0f} s "
          f"(load average {info['load_average']})")


if __name__ == "__main__":
    main()
