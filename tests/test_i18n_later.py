"""Notes made once and cached for every session (a prepared zip's skipped files, a photo's
frames and EXIF turn) are shown in each reader's language, not in the first one's."""
from __future__ import annotations

import io
import pickle

import pytest
from PIL import Image

from playground import i18n
from playground.datasets import dataset_from_zip, images
from playground.i18n import Later, _, catalog
from tests.test_dataset_zip import make_zip, two_classes


@pytest.fixture
def language():
    yield i18n.set_language
    i18n.set_language("en")


def test_a_zip_prepared_in_english_shows_its_note_in_korean(language):
    files = two_classes()
    for i in range(5):
        files[f"cats/notes{i}.txt"] = b"not a picture"
    language("en")
    data = dataset_from_zip(make_zip(files), 8, True)   # prepared (and cached) once
    (note,) = data.notes
    assert note.startswith("Skipped 5 files") and note.endswith(" and 2 more.")
    language("ko")
    korean = catalog("ko")
    shown = _(note)
    assert shown == korean[note.message].format(
        count=5, files=note.params["files"],
        more=korean[" and {count} more"].format(count=2))
    assert "Skipped" not in shown and "more" not in shown
    language("en")
    assert _(note) == note


def test_a_photos_notes_follow_the_reader(language):
    frames = [Image.new("RGB", (40, 40), (i * 40, 0, 0)) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    language("ko")
    decoded = images.load(buffer.getvalue(), "anim.gif")
    (note,) = decoded.notes
    assert note == "3 frames/pages: the first one is used."   # kept in English
    assert _(note) == catalog("ko")[note.message].format(frames=3)


def test_a_later_survives_pickling_and_keeps_its_parameters():
    note = Later(i18n.N_("Skipped {count} files that could not be read as pictures: "
                         "{files}{more}."), count=4, files="'a.txt'",
                 more=Later(i18n.N_(" and {count} more"), count=1))
    again = pickle.loads(pickle.dumps(note))
    assert again == note and again.message == note.message and again.params == note.params
    assert isinstance(again.params["more"], Later)
