"""Parts of a file (byte ranges), as a browser's audio and video players ask for them to seek,
from the local file system and from S3-compatible storage."""

import pytest
from django.core.files.storage import storages

from portfolio.files import byte_range
from portfolio.models import EvidenceFile
from portfolio.services import file_check
from tests import samples
from tests.factories import EvidenceFactory, edit_form_data
from tests.test_s3_storage import bucket, s3_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["local", "s3"])
def video(request, client, login, portfolio, monkeypatch):
    """A checked video, stored on the file system or in a bucket; returns (its URL, its bytes)."""
    if request.param == "s3":
        request.getfixturevalue("bucket")
        # The file field took its storage when the models loaded: the bucket's from now on.
        monkeypatch.setattr(EvidenceFile._meta.get_field("file"), "storage", storages["evidence"])
    evidence = EvidenceFactory(portfolio=portfolio)
    login(portfolio.learner)
    client.post(
        f"/evidence/{evidence.pk}/edit/",
        edit_form_data(evidence, files=[samples.upload("clip.mp4", samples.mp4())]),
    )
    stored = evidence.files.get()
    file_check(file_id=stored.pk)  # as the background worker does
    stored = EvidenceFile.objects.get(pk=stored.pk)
    with stored.file.open("rb") as handle:
        content = handle.read()
    assert len(content) > 100
    return f"/files/{stored.pk}/", content


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_whole_file_says_parts_may_be_asked_for(client, video):
    url, content = video

    response = client.get(url)

    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == len(content)
    assert body(response) == content


@pytest.mark.parametrize(
    ("asked", "first", "last"),
    [("bytes=0-9", 0, 9), ("bytes=10-", 10, None), ("bytes=-20", -20, None)],
)
def test_a_range_gets_that_part_alone(client, video, asked, first, last):
    url, content = video
    size = len(content)
    first = first % size
    last = size - 1 if last is None else last

    response = client.get(url, headers={"Range": asked})

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert int(response["Content-Length"]) == last - first + 1
    assert body(response) == content[first : last + 1]
    # Still the private file it was: kept by no cache, and sandboxed.
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_range_past_the_end_is_refused(client, video):
    url, content = video

    response = client.get(url, headers={"Range": f"bytes={len(content)}-"})

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(content)}"


def test_several_ranges_get_the_whole_file(client, video):
    url, content = video

    response = client.get(url, headers={"Range": "bytes=0-9,20-29"})

    assert response.status_code == 200
    assert body(response) == content


def test_a_range_asked_by_someone_who_may_not_see_the_file_gets_nothing(
    client, login, video, make_user
):
    url, _ = video
    login(make_user())

    assert client.get(url, headers={"Range": "bytes=0-9"}).status_code == 404


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", (0, 0)),
        ("bytes=5-500", (5, 99)),  # the end is clipped to the file
        ("bytes=-500", (0, 99)),
        ("bytes=9-5", None),  # not a valid range: ignored
        ("bytes=-", None),
        ("items=0-5", None),
        ("bytes=0-5,10-20", None),
    ],
)
def test_ranges_are_read_as_http_says(header, expected):
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=-0"])
def test_unsatisfiable_ranges_are_told_apart(header):
    with pytest.raises(ValueError, match="past the end of the file"):
        byte_range(header, 100)
