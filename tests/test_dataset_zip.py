"""Your own pictures from a zip: good archives become Datasets; every hostile archive is built
here in code and refused with a one-line message (a ValueError), nothing written anywhere."""
from __future__ import annotations

import builtins
import io
import os
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from playground.datasets import Dataset, ZipDatasetError, dataset_from_zip, zip_import


def picture(colour=(200, 30, 30), size=(40, 30), mode="RGB", fmt="PNG") -> bytes:
    image = Image.new("RGB", size, colour)
    image.paste((0, 0, 0), (size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2))
    if mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def make_zip(files: dict, infos=()) -> bytes:
    """A zip in memory: {name: bytes}, plus raw ZipInfo entries as (ZipInfo, bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for info, data in infos:
            zf.writestr(info, data)
    return buffer.getvalue()


def two_classes(n_cats=6, n_dogs=6, prefix="") -> dict:
    """Mixed sizes, formats and modes: all fine."""
    kinds = [dict(), dict(size=(64, 20), mode="L"), dict(size=(17, 50), mode="RGBA"),
             dict(fmt="JPEG", size=(100, 80)), dict(mode="P", fmt="GIF"), dict(fmt="BMP")]
    files = {}
    for i in range(n_cats):
        files[f"{prefix}cats/cat{i}.png"] = picture((220, 40 + i, 40), **kinds[i % len(kinds)])
    for i in range(n_dogs):
        files[f"{prefix}dogs/dog{i}.png"] = picture((40, 40 + i, 220), **kinds[i % len(kinds)])
    return files


def refused(data, match, **kwargs):
    with pytest.raises(ZipDatasetError, match=match) as info:
        dataset_from_zip(data, kwargs.pop("size", 16), kwargs.pop("color", True), **kwargs)
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value, ValueError)
    return message


# ------------------------------------------------------------------------------- good zips

def test_two_classes_in_colour_and_grayscale():
    data = make_zip(two_classes())
    colour = dataset_from_zip(data, 16, True)
    assert isinstance(colour, Dataset)
    assert colour.class_names == ("cats", "dogs") and colour.input_shape == (16, 16, 3)
    assert colour.x_train.shape == (10, 16, 16, 3) and colour.x_test.shape == (2, 16, 16, 3)
    assert colour.x_train.dtype == colour.y_train.dtype == np.uint8
    assert colour.class_counts("test") == (1, 1) and colour.class_counts("train") == (5, 5)
    assert colour.notes == ()
    gray = dataset_from_zip(data, 24, False)
    assert gray.x_train.shape == (10, 24, 24) and gray.input_shape == (24, 24, 1)
    # Cats are red, dogs blue (or both gray when saved as "L"): the labels follow the folders.
    redness = colour.x_train[..., 0].mean((1, 2)) - colour.x_train[..., 2].mean((1, 2))
    assert (redness[colour.y_train == 0] >= 0).all() and (redness[colour.y_train == 1] <= 0).all()
    assert (redness > 50).sum() >= 3 and (redness < -50).sum() >= 3


def test_split_is_seeded_and_stratified():
    data = make_zip(two_classes(10, 20))
    a = dataset_from_zip(data, 8, True, seed=3, test_fraction=0.3)
    b = dataset_from_zip(data, 8, True, seed=3, test_fraction=0.3)
    c = dataset_from_zip(data, 8, True, seed=4, test_fraction=0.3)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.x_test, c.x_test)
    assert a.class_counts("test") == (3, 6) and a.class_counts("train") == (7, 14)


def test_path_bytes_and_file_object_agree(tmp_path):
    data = make_zip(two_classes())
    (tmp_path / "pets.zip").write_bytes(data)
    results = [dataset_from_zip(source, 12, True) for source in
               (data, tmp_path / "pets.zip", str(tmp_path / "pets.zip"), io.BytesIO(data))]
    for other in results[1:]:
        np.testing.assert_array_equal(other.x_train, results[0].x_train)
    assert results[1].source == "pets.zip"


def test_one_top_folder_and_mac_litter_are_looked_through():
    files = two_classes(prefix="pets/")
    files["__MACOSX/pets/cats/._cat0.png"] = b"\x00\x05\x16\x07 resource fork"
    files["pets/.DS_Store"] = b"\x00\x00\x00\x01Bud1"
    files["pets/cats/.hidden.png"] = b"junk"
    data = dataset_from_zip(make_zip(files), 8, True)
    assert data.class_names == ("cats", "dogs") and data.notes == ()
    assert len(data.y_train) + len(data.y_test) == 12


def test_centre_crop_keeps_the_middle():
    wide = Image.new("RGB", (90, 30), (255, 0, 0))
    wide.paste((0, 255, 0), (30, 0, 60, 30))
    wide.paste((0, 0, 255), (60, 0, 90, 30))
    buffer = io.BytesIO()
    wide.save(buffer, format="PNG")
    files = {f"{c}/{i}.png": buffer.getvalue() for c in ("a", "b") for i in range(5)}
    data = dataset_from_zip(make_zip(files), 10, True)
    middle = data.x_train[0].astype(int)
    assert (middle[..., 1] > 200).all() and (middle[..., 0] < 60).all()


def test_non_pictures_are_skipped_and_counted():
    files = two_classes()
    files["cats/notes.txt"] = b"my cats"
    files["dogs/broken.jpg"] = picture(fmt="JPEG")[:200]
    files["dogs/tiny.png"] = picture(size=(4, 4))
    data = dataset_from_zip(make_zip(files), 8, True)
    assert len(data.notes) == 1 and data.notes[0].startswith("Skipped 3 files")
    assert "notes.txt" in data.notes[0]
    assert len(data.y_train) + len(data.y_test) == 12


def test_nothing_is_written(tmp_path, monkeypatch):
    """Any attempt to open a file for writing fails the test: members are read in memory."""
    (tmp_path / "pets.zip").write_bytes(make_zip(two_classes()))
    real_open, real_os_open = builtins.open, os.open

    def read_only_open(file, mode="r", *args, **kwargs):
        assert not set(mode) & set("wax+"), f"opened {file!r} with mode {mode!r}"
        return real_open(file, mode, *args, **kwargs)

    def read_only_os_open(path, flags, *args, **kwargs):
        assert not flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT), f"os.open({path!r})"
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", read_only_open)
    monkeypatch.setattr(io, "open", read_only_open)
    monkeypatch.setattr(os, "open", read_only_os_open)
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    data = dataset_from_zip(tmp_path / "pets.zip", 8, False)
    assert len(data.y_train) == 10 and sorted(os.listdir(tmp_path)) == before


def test_a_flat_bmp_packs_well_and_is_still_a_picture():
    files = two_classes()
    files["cats/flat.bmp"] = picture(size=(300, 300), fmt="BMP")  # 270 kB, packs ~400:1
    data = dataset_from_zip(make_zip(files), 8, True)
    totals = np.add(data.class_counts("train"), data.class_counts("test"))
    assert tuple(totals) == (7, 6) and data.notes == ()


# ------------------------------------------------------------------------------- hostile zips

def test_parent_paths_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = two_classes()
    files["cats/../../evil.png"] = picture()
    message = refused(make_zip(files), "climbs out")
    assert "evil.png" in message
    files = two_classes()
    files["..\\..\\evil.png"] = picture()
    refused(make_zip(files), "climbs out")
    assert not (tmp_path.parent / "evil.png").exists()


@pytest.mark.parametrize("name", ["/etc/cats/x.png", "C:/cats/x.png", "\\cats\\x.png"])
def test_absolute_paths_are_refused(name):
    files = two_classes()
    files[name] = picture()
    refused(make_zip(files), "absolute path")


def test_symlinks_are_refused():
    link = zipfile.ZipInfo("cats/passwd.png")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    message = refused(make_zip(two_classes(), [(link, b"/etc/passwd")]), "symbolic link")
    assert "passwd.png" in message


def test_zip_bomb_ratio_is_refused():
    files = two_classes()
    files["cats/bomb.png"] = bytes(10 * 2**20)  # 10 MB of zeros packs to ~10 kB (1,000:1)
    refused(make_zip(files), r"unpacks to \d+× its packed size")


def test_zip_bomb_total_size_is_refused(monkeypatch):
    monkeypatch.setattr(zip_import, "MAX_TOTAL_BYTES", 2 * 2**20)
    files = two_classes()
    rng = np.random.default_rng(0)
    for i in range(3):  # incompressible, so the ratio is fine but the sum is not
        files[f"dogs/big{i}.png"] = rng.integers(0, 256, 2**20, dtype=np.uint8).tobytes()
    refused(make_zip(files), "unpacks to 3 MB; the limit is 2 MB")


def test_a_member_over_the_picture_limit_is_refused():
    files = two_classes()
    files["cats/huge.png"] = bytes(21 * 2**20)
    refused(make_zip(files), "a picture may have at most 20 MB")


def test_ten_thousand_tiny_files_are_refused():
    files = {f"cats/{i}.png": b"x" for i in range(10_000)}
    refused(make_zip(files), "10,000 entries; the limit is 5,000")


@pytest.mark.parametrize("name", ["cats/more.zip", "dogs/more.tar.gz", "dogs/x.7z"])
def test_nested_archives_are_refused(name):
    files = two_classes()
    files[name] = make_zip(two_classes())
    refused(make_zip(files), "another archive")


def test_a_zip_disguised_as_a_picture_is_refused():
    files = two_classes()
    files["cats/photo.png"] = make_zip(two_classes())
    refused(make_zip(files), "another zip")


def test_encrypted_members_are_refused():
    data = bytearray(make_zip(two_classes()))
    central = data.find(b"PK\x01\x02")  # set "encrypted" in the first central directory entry
    data[central + 8] |= 0x01
    refused(bytes(data), "encrypted")


def test_one_class_only_is_refused():
    files = {f"cats/{i}.png": picture() for i in range(6)}
    message = refused(make_zip(files), "at least two classes")
    assert "cats" in message


def test_an_empty_class_is_named():
    info = zipfile.ZipInfo("birds/")
    message = refused(make_zip(two_classes(), [(info, b"")]), "has no pictures")
    assert "“birds”" in message


def test_a_class_of_non_pictures_is_named():
    files = two_classes()
    files.update({f"fish/{i}.txt": b"blub" for i in range(5)})
    message = refused(make_zip(files), "has no pictures")
    assert "“fish”" in message and "not pictures" in message


def test_too_few_pictures_names_the_class():
    message = refused(make_zip(two_classes(6, 2)), "Too few pictures")
    assert "“dogs” has 2" in message and "at least 5" in message and "cats" not in message
    assert dataset_from_zip(make_zip(two_classes(6, 2)), 8, True, min_per_class=2)


def test_only_non_pictures_is_refused_and_says_so():
    files = {f"{c}/{i}.txt": b"text" for c in ("a", "b") for i in range(3)}
    refused(make_zip(files), "No pictures could be read .*6 files")


def test_loose_files_at_the_top_are_refused():
    files = two_classes()
    files["stray.png"] = picture()
    refused(make_zip(files), "not inside a class folder")


@pytest.mark.parametrize("data, match", [
    (b"", "not a readable .zip"),
    (b"PK\x03\x04 truncated", "not a readable .zip"),
    (picture(), "not a readable .zip"),
])
def test_not_a_zip(data, match):
    refused(data, match)


def test_a_truncated_zip_is_refused():
    data = make_zip(two_classes())
    refused(data[: len(data) // 2], "not a readable .zip")


def test_a_damaged_member_is_refused():
    noise = np.random.default_rng(0).integers(0, 256, (100, 100, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    data = bytearray(make_zip({"a/1.png": buffer.getvalue(), **two_classes()}))
    data[200:400] = bytes(200)  # inside the first member's deflated bytes: CRC or inflate fails
    refused(bytes(data), "cannot be read from the zip")


def test_a_member_that_unpacks_to_more_than_it_declares_is_refused():
    """A bomb that lies in the central directory: the reader stops at the declared size and the
    CRC no longer matches, so nothing larger than declared is ever held."""
    files = two_classes()
    files["cats/liar.png"] = bytes(50_000)
    data = bytearray(make_zip(files))
    central = data.rfind(b"PK\x01\x02", 0, data.find(b"cats/liar.png", data.find(b"PK\x01\x02")))
    assert data[central + 46:central + 46 + 13] == b"cats/liar.png"
    data[central + 24:central + 28] = (1000).to_bytes(4, "little")  # uncompressed size
    refused(bytes(data), "liar.png.* cannot be read from the zip")


def test_a_path_that_is_not_a_zip(tmp_path):
    (tmp_path / "cat.zip").write_bytes(picture())
    refused(tmp_path / "cat.zip", "“cat.zip” is not a readable .zip")


@pytest.mark.parametrize("kwargs, match", [
    (dict(size=4), "size must be an integer from 8 to 256"),
    (dict(size=1000), "size must be"),
    (dict(size=True), "size must be"),
    (dict(test_fraction=0.0), "test_fraction"),
    (dict(test_fraction=1.0), "test_fraction"),
])
def test_bad_arguments(kwargs, match):
    refused(make_zip(two_classes()), match, **kwargs)


def test_bad_source_types(tmp_path):
    refused(12345, "Expected a path or the bytes")
    refused(tmp_path / "missing.zip", "There is no file")


def test_a_big_jpeg_is_decoded_at_a_reduced_scale_with_the_same_result():
    """The JPEG decoder's own 1/8 scaling for a 64-px data set: a 4000×3000 photo comes out as
    the full decode, centre-cropped and resized, within one grey level on average."""
    from playground.datasets import images
    rng = np.random.default_rng(3)
    small = rng.uniform(0, 255, (6, 8, 3)).astype(np.uint8)
    big = Image.fromarray(small).resize((4000, 3000), Image.BICUBIC)
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    assert images.load(data, "p.jpg", draft=256).pixels.shape == (375, 500, 3)  # 1/8
    ours = dataset_from_zip(make_zip({"a/p.jpg": data, **{f"a/{i}.png": picture()
                                                           for i in range(5)},
                                      **{f"b/{i}.png": picture() for i in range(6)}}),
                            64, True, min_per_class=2)
    full = images.load(data, "p.jpg").pixels
    want = np.asarray(Image.fromarray(full).resize((64, 64), Image.Resampling.LANCZOS,
                                                   box=(500, 0, 3500, 3000)), np.float64)
    got = [x for x in np.concatenate([ours.x_train, ours.x_test])
           if np.abs(x.astype(np.float64) - want).mean() < 1.0]
    assert len(got) == 1
