"""Your own pictures: a ``.zip`` with one folder per class (``cats/``, ``dogs/``, ...) becomes a
:class:`~playground.datasets.base.Dataset`.

Members are read into memory one at a time, never extracted: nothing is written anywhere.
Every picture goes through the Filter Lab's safe decoder (``images.load``: size and pixel
limits, allowed formats only), is centre-cropped and resized to ``size``×``size`` and kept as
uint8 RGB or grayscale. Anything wrong with the archive raises :class:`ZipDatasetError` (a
``ValueError``) whose message is one sentence a learner can act on.

A single top folder that holds the class folders (``pets/cats/``, ``pets/dogs/``) is looked
through; pictures in subfolders of a class folder belong to that class. macOS ``__MACOSX/``
forks and hidden files (``.DS_Store``) are ignored; other files that are not pictures are
skipped and counted in ``Dataset.notes``.
"""
from __future__ import annotations

import io
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Union

import numpy as np
from PIL import Image

from playground.datasets import base, images
from playground.i18n import N_, Later, _

MAX_ZIP_BYTES = 1 * 2**30        # the archive itself
MAX_MEMBERS = 5_000              # entries in the archive (folders included)
MAX_TOTAL_BYTES = 1 * 2**30      # sum of the unpacked sizes
MAX_MEMBER_BYTES = images.MAX_BYTES
# Deflate packs at most ~1,032:1; photos (JPEG, PNG) hardly pack at all, but a flat-colour BMP
# packs several hundred times, so the ratio is only asked of members over a megabyte.
MAX_RATIO = 200                  # unpacked / packed, for members over RATIO_FLOOR bytes
RATIO_FLOOR = 2**20
MAX_CLASSES = 100
MIN_PER_CLASS = 5
SIZES = (8, 256)                 # smallest and largest picture side
ARCHIVES = (".zip", ".jar", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
IGNORED = ("__MACOSX", "Thumbs.db", "desktop.ini")
LICENCE = "your own pictures: check that you may use them"


class ZipDatasetError(ValueError):
    """A zip that cannot become a data set; ``str(err)`` is one line for the user."""


def _quote(name: str) -> str:
    safe = "".join(ch for ch in str(name) if ch.isprintable() and ch not in "<>`")[:60]
    return f"“{safe.strip()}”"


def _open(source) -> tuple[zipfile.ZipFile, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, label = bytes(source), _("the uploaded zip")
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ZipDatasetError(_("There is no file {file}.", file=_quote(str(path))))
        if path.stat().st_size > MAX_ZIP_BYTES:
            raise ZipDatasetError(_("{file} is larger than {limit} GB.", file=_quote(path.name),
                                    limit=f"{MAX_ZIP_BYTES / 2**30:.0f}"))
        try:
            return zipfile.ZipFile(path), path.name  # members are read one at a time
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
            raise ZipDatasetError(_("{file} is not a readable .zip archive (it may be "
                                    "truncated, or another kind of file).",
                                    file=_quote(path.name))) from None
    elif hasattr(source, "read"):  # an open file or Streamlit's UploadedFile
        data, label = source.read(MAX_ZIP_BYTES + 1), getattr(source, "name", _("the upload"))
        if not isinstance(data, bytes):
            raise ZipDatasetError(_("The upload must be opened in binary mode."))
    else:
        raise ZipDatasetError(_("Expected a path or the bytes of a .zip, got {type}.",
                                type=type(source).__name__))
    if len(data) > MAX_ZIP_BYTES:
        raise ZipDatasetError(_("The zip is larger than {limit} GB.",
                                limit=f"{MAX_ZIP_BYTES / 2**30:.0f}"))
    try:
        return zipfile.ZipFile(io.BytesIO(data)), str(label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise ZipDatasetError(_("This is not a readable .zip archive (it may be truncated, or "
                                "another kind of file).")) from None


def _check_member(info: zipfile.ZipInfo) -> None:
    """Refuse members that a careless extractor would turn into an attack."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ZipDatasetError(_("The zip holds an absolute path {file}; use relative folders "
                                "(cats/…, dogs/…).", file=_quote(info.filename)))
    if ".." in parts:
        raise ZipDatasetError(_("The zip holds a path that climbs out of its folder ({file}).",
                                file=_quote(info.filename)))
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ZipDatasetError(_("The zip holds a symbolic link ({file}); put the pictures "
                                "themselves in it.", file=_quote(info.filename)))
    if info.flag_bits & 0x1:
        raise ZipDatasetError(_("{file} is encrypted; zip the pictures without a password.",
                                file=_quote(info.filename)))
    if name.lower().endswith(ARCHIVES):
        raise ZipDatasetError(_("The zip holds another archive ({file}); put the pictures in "
                                "it directly.", file=_quote(info.filename)))
    if info.file_size > MAX_MEMBER_BYTES:
        raise ZipDatasetError(_("{file} unpacks to {size} MB; a picture may have at most "
                                "{limit} MB.", file=_quote(info.filename),
                                size=f"{info.file_size / 2**20:.0f}",
                                limit=f"{MAX_MEMBER_BYTES / 2**20:.0f}"))
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise ZipDatasetError(_("{file} unpacks to {ratio}× its packed size (a zip bomb?); "
                                "pictures hardly compress.", file=_quote(info.filename),
                                ratio=info.file_size // max(info.compress_size, 1)))


def _ignored(parts: tuple[str, ...]) -> bool:
    return any(p in IGNORED or p.startswith(".") for p in parts)


def _classes(zf: zipfile.ZipFile) -> dict[str, list[zipfile.ZipInfo]]:
    """Class folder name -> its file members (sorted by name); checks every member first."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ZipDatasetError(_("The zip holds {count} entries; the limit is {limit}.",
                                count=f"{len(infos):,}", limit=f"{MAX_MEMBERS:,}"))
    total = 0
    for info in infos:
        _check_member(info)
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise ZipDatasetError(_("The zip unpacks to {size} MB; the limit is {limit} MB.",
                                size=f"{total / 2**20:,.0f}",
                                limit=f"{MAX_TOTAL_BYTES / 2**20:,.0f}"))
    entries = [(PurePosixPath(i.filename.replace("\\", "/")).parts, i) for i in infos]
    entries = [(parts, i) for parts, i in entries if parts and not _ignored(parts)]
    # Look through one top folder that holds everything (pets/cats/..., pets/dogs/...).
    while entries:
        tops = {parts[0] for parts, _info in entries}
        nested = all(len(parts) > 1 or i.is_dir() for parts, i in entries)
        deeper = any(len(parts) > 2 for parts, i in entries if not i.is_dir())
        if len(tops) == 1 and nested and deeper:
            entries = [(parts[1:], i) for parts, i in entries if len(parts) > 1]
        else:
            break
    loose = [i.filename for parts, i in entries if len(parts) == 1 and not i.is_dir()]
    if loose:
        raise ZipDatasetError(_("{file} is not inside a class folder: put the pictures of each "
                                "class in their own folder (cats/, dogs/, …).",
                                file=_quote(loose[0])))
    classes: dict[str, list[zipfile.ZipInfo]] = {}
    for parts, info in entries:
        members = classes.setdefault(parts[0], [])
        if not info.is_dir():
            members.append(info)
    if len(classes) > MAX_CLASSES:
        raise ZipDatasetError(_("The zip has {count} class folders; the limit is {limit}.",
                                count=len(classes), limit=MAX_CLASSES))
    return {name: sorted(members, key=lambda i: i.filename)
            for name, members in sorted(classes.items())}


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with zf.open(info) as handle:
            data = handle.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError,
            RuntimeError) as err:
        raise ZipDatasetError(_("{file} cannot be read from the zip ({error}).",
                                file=_quote(info.filename), error=type(err).__name__)) from None
    if len(data) > MAX_MEMBER_BYTES:
        raise ZipDatasetError(_("{file} unpacks to more than {limit} MB.",
                                file=_quote(info.filename),
                                limit=f"{MAX_MEMBER_BYTES / 2**20:.0f}"))
    if data.startswith(b"PK\x03\x04"):
        raise ZipDatasetError(_("The zip holds another zip ({file}); put the pictures in it "
                                "directly.", file=_quote(info.filename)))
    return data


def _prepare(data: bytes, name: str, size: int, color: bool) -> np.ndarray:
    """Decode safely, crop the centre square, resize to size×size: uint8 (size, size, 3) or
    (size, size). What ``ImageOps.fit`` does, but resized from the crop box with a reducing gap
    (a 12-megapixel photo: ~8 ms instead of ~65 ms, within 1 grey level on average)."""
    # 4× the size is plenty for the Lanczos reduction below; a JPEG decodes at that scale.
    image = Image.fromarray(images.load(data, name, draft=4 * size).pixels)
    width, height = image.size
    side = min(width, height)
    box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    fitted = image.resize((size, size), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    return np.asarray(fitted if color else fitted.convert("L"), dtype=np.uint8)


def _split(rng: np.random.Generator, labels: np.ndarray, test_fraction: float):
    """Stratified: in every class round(n · test_fraction) pictures (at least 1, at most
    n - 1) go to the test set; both sets are shuffled."""
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = min(max(1, int(round(len(members) * test_fraction))), len(members) - 1)
        test.extend(members[:n_test])
        train.extend(members[n_test:])
    return rng.permutation(np.array(train, int)), rng.permutation(np.array(test, int))


def dataset_from_zip(source: Union[str, Path, bytes], size: int, color: bool, seed: int = 0,
                     test_fraction: float = 0.2, min_per_class: int = MIN_PER_CLASS,
                     name: str = "own_pictures") -> base.Dataset:
    """A :class:`~playground.datasets.base.Dataset` from a zip (a path, its bytes, or a binary
    file object) with one folder per class.

    x uint8 (N, size, size, 3) when ``color`` else (N, size, size); y uint8 (N,) indices into
    the class names (the folder names, sorted). Train/test split stratified with ``seed``.
    Raises :class:`ZipDatasetError` (a ValueError) for bad arguments and bad archives.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) \
            or not SIZES[0] <= size <= SIZES[1]:
        raise ZipDatasetError(f"size must be an integer from {SIZES[0]} to {SIZES[1]}, "
                              f"got {size!r}.")
    if not isinstance(test_fraction, (int, float)) or not 0.0 < test_fraction < 1.0:
        raise ZipDatasetError(f"test_fraction must be between 0 and 1, got {test_fraction!r}.")
    size, min_per_class = int(size), max(2, int(min_per_class))
    zf, label = _open(source)
    with zf:
        classes = _classes(zf)
        pictures, labels, skipped = [], [], []
        for index, members in enumerate(classes.values()):
            for info in members:
                data = _read(zf, info)
                try:
                    pictures.append(_prepare(data, PurePosixPath(info.filename).name, size,
                                             color))
                except images.ImageError as err:
                    skipped.append((info.filename, str(err)))
                    continue
                labels.append(index)
    counts = np.bincount(np.array(labels, int), minlength=len(classes))
    names = list(classes)
    if not pictures:
        example = _(" (e.g. {file}: {problem})", file=_quote(skipped[0][0]),
                    problem=skipped[0][1]) if skipped else ""
        raise ZipDatasetError(_("No pictures could be read from {file}: {count} files could "
                                "not be read as pictures{example}.", file=_quote(label),
                                count=len(skipped), example=example))
    if len(names) < 2:
        if names:
            raise ZipDatasetError(_("A data set needs at least two classes, one folder each: "
                                    "found only {name}.", name=_quote(names[0])))
        raise ZipDatasetError(_("A data set needs at least two classes, one folder each."))
    empty = [n for n, c in zip(names, counts) if c == 0]
    if empty:
        raise ZipDatasetError(
            _("Class {name} has no pictures (its files were not pictures).",
              name=_quote(empty[0])) if skipped else
            _("Class {name} has no pictures.", name=_quote(empty[0])))
    few = [(n, int(c)) for n, c in zip(names, counts) if c < min_per_class]
    if few:
        listed = ", ".join(_("{name} has {count}", name=_quote(n), count=c) for n, c in few)
        raise ZipDatasetError(_("Too few pictures: {listed}; each class needs at least "
                                "{least}.", listed=listed, least=min_per_class))
    x = np.stack(pictures)
    y = np.array(labels, np.uint8)
    train, test = _split(np.random.default_rng(seed), y, float(test_fraction))
    notes = []
    if skipped:
        shown = ", ".join(_quote(PurePosixPath(f).name) for f, _reason in skipped[:3])
        # Later: the prepared data set is cached for every session; each reads it in its own
        # language.
        more = Later(N_(" and {count} more"), count=len(skipped) - 3) \
            if len(skipped) > 3 else ""
        notes.append(Later(N_("Skipped {count} files that could not be read as pictures: "
                              "{files}{more}."), count=len(skipped), files=shown, more=more))
    return base.Dataset(name, x[train], y[train], x[test], y[test], names,
                        (size, size, 3 if color else 1), source=label, licence=LICENCE,
                        loaded_from=label, notes=tuple(notes))


def _class_name(text: object) -> str:
    """A class name usable as a folder: printable, no path separators, at most 40 chars."""
    name = "".join(ch for ch in str(text) if ch.isprintable() and ch not in "/\\")
    return " ".join(name.split())[:40].strip(" .")


def dataset_from_classes(classes, size: int, color: bool, seed: int = 0,
                         test_fraction: float = 0.2, min_per_class: int = MIN_PER_CLASS
                         ) -> base.Dataset:
    """The same as :func:`dataset_from_zip` for classes built on a page, as Teachable Machine
    does: ``classes`` maps a class name to its pictures, a sequence of (file name, bytes).

    The pictures are packed into an in-memory zip (one folder per class) and read back by the
    zip reader, so they pass the very same checks. Raises :class:`ZipDatasetError` for an empty
    or repeated class name and everything the zip reader refuses.
    """
    buffer = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for raw_name, pictures in classes.items():
            name = _class_name(raw_name)
            if not name:
                raise ZipDatasetError(_("Every class needs a name."))
            if name.casefold() in seen:
                raise ZipDatasetError(_("Two classes are called {name}; give each its own "
                                        "name.", name=_quote(name)))
            seen.add(name.casefold())
            zf.writestr(f"{name}/", b"")
            for index, (file_name, data) in enumerate(pictures):
                stem = _class_name(PurePosixPath(str(file_name).replace("\\", "/")).name)
                zf.writestr(f"{name}/{index:05d}-{stem or 'picture'}", bytes(data))
    return dataset_from_zip(buffer.getvalue(), size, color, seed, test_fraction,
                            min_per_class, name="own_pictures")
