"""Your own pictures: preparing 500 photos of 12 megapixels at 64 px, and one epoch on them.

Makes a zip of ``--photos`` JPEG photos (4000×3000, quality 90, half "cats/" half "dogs/";
``--distinct`` different photos repeated, since making 500 big JPEGs takes longer than reading
them) in memory, then, in one run:
  prepare   ``zip_import.dataset_from_zip(zip, 64, color=True)``: every photo through the safe
            decoder, centre-cropped and resized (what the Training page does on upload);
  baseline  the plain way on the same bytes, paired photo by photo: ``Image.open`` +
            ``ImageOps.exif_transpose`` + ``ImageOps.fit(..., (64, 64), LANCZOS)``;
  epoch     one epoch of the page's default network for own pictures ("Fast colour CNN" made
            for 64×64×3, its recipe's batch size) on the prepared training pictures, in this
            process (TensorFlow imported before the clock starts).
Prints the seconds, photos per second and the ratio prepare / baseline, with the load average.

    python bench/bench_own_pictures.py [--photos 500] [--size 64]
"""
from __future__ import annotations

import argparse
import io
import math
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_time_to_accuracy import load  # noqa: E402  (the load average, one line)


def photo(seed: int, width: int = 4000, height: int = 3000) -> bytes:
    """A smooth, photo-like 12-megapixel JPEG (gradients, a blob, sensor noise)."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (6, 8, 3)).astype(np.uint8)
    picture = np.asarray(Image.fromarray(small).resize((width, height), Image.BICUBIC),
                         np.float32)
    picture += rng.normal(0, 6, (height, 1, 1)).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def make_zip(count: int, distinct: int) -> tuple[bytes, list[bytes]]:
    photos = [photo(i) for i in range(distinct)]
    buffer = io.BytesIO()
    members = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for i in range(count):
            data = photos[i % distinct]
            zf.writestr(f"{'cats' if i % 2 else 'dogs'}/photo-{i:04d}.jpg", data)
            members.append(data)
    return buffer.getvalue(), members


def baseline(members: list[bytes], size: int) -> float:
    began = time.perf_counter()
    for data in members:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        np.asarray(ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=500)
    parser.add_argument("--distinct", type=int, default=12)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()

    from playground.datasets import zip_import
    began = time.perf_counter()
    archive, members = make_zip(args.photos, args.distinct)
    print(f"bench_own_pictures: {args.photos} photos of 4000×3000 "
          f"({len(archive) / 2**20:.0f} MB zip, made in {time.perf_counter() - began:.1f} s); "
          f"{load()}")

    began = time.perf_counter()
    data = zip_import.dataset_from_zip(archive, args.size, True, seed=0)
    prepare = time.perf_counter() - began
    plain = baseline(members, args.size)
    print(f"  prepare (dataset_from_zip at {args.size} px): {prepare:.1f} s, "
          f"{args.photos / prepare:.1f} photos/s; {len(data.y_train)} training + "
          f"{len(data.y_test)} test pictures {data.x_train.shape[1:]}")
    print(f"  baseline (Image.open + exif_transpose + ImageOps.fit): {plain:.1f} s; "
          f"ratio prepare / baseline {prepare / plain:.2f}")

    import keras  # noqa: F401  (imported before the clock: a training process pays it once)

    from playground.datasets.base import training_slice
    from playground.training import models
    from playground.training import settings as training_settings
    info = training_settings.data_info(training_settings.PICTURES, data)
    preset = training_settings.DEFAULT_PRESETS[training_settings.PICTURES]
    settings = {**training_settings.training_defaults(preset), "epochs": 1}
    part = training_slice(data, len(data.y_train), 0.0, 0)
    began = time.perf_counter()
    model = models.build_for_training(training_settings.preset_for(preset, info), settings,
                                      data=info)
    built = time.perf_counter() - began
    model.fit(part.x_train, part.y_train, batch_size=settings["batch_size"], epochs=1,
              verbose=0)
    epoch = time.perf_counter() - began - built
    steps = math.ceil(len(part.y_train) / settings["batch_size"])
    print(f"  one epoch of {preset} at {args.size}×{args.size}×3 ({model.count_params():,} "
          f"parameters, {steps} batches of {settings['batch_size']}): {epoch:.1f} s "
          f"(+ {built:.1f} s to build); {load()}")


if __name__ == "__main__":
    main()
