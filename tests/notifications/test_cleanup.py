"""``manage.py helpdesk_cleanup``: the files of abandoned citizen forms are
deleted after a while; everything else in the private storage stays."""

import io
import os
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InMemoryStorage, Storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.support.images import PDF_BYTES
from wagtail_helpdesk.attachments import PrivateFileSystemStorage, private_storage
from wagtail_helpdesk.citizen.wizard import PENDING_DIR, Wizard

HOUR = 3600


@pytest.fixture(autouse=True)
def two_day_sessions(settings):
    settings.SESSION_COOKIE_AGE = 48 * HOUR  # the default age follows the sessions'


@pytest.fixture
def storage(private_media):
    storage = private_storage()
    assert isinstance(storage, PrivateFileSystemStorage)
    assert storage.location == str(private_media)  # the test's own folder
    return storage


def put(storage, name, hours_ago=0):
    """Store a small file as ``name`` last modified ``hours_ago`` hours ago."""
    saved = storage.save(name, ContentFile(b"%PDF-1.4 test"))
    assert saved == name
    when = time.time() - hours_ago * HOUR
    os.utime(storage.path(saved), (when, when))
    return saved


def cleanup(*args):
    out = io.StringIO()
    call_command("helpdesk_cleanup", *args, stdout=out)
    return out.getvalue()


def test_old_pending_files_are_deleted_recent_ones_kept(storage):
    old = [put(storage, f"{PENDING_DIR}/old{n}", hours_ago=49) for n in range(2)]
    recent = put(storage, f"{PENDING_DIR}/recent", hours_ago=47)
    output = cleanup()
    assert [storage.exists(name) for name in old] == [False, False]
    assert storage.exists(recent)
    assert output.strip() == "Deleted 2 pending files older than 48 hours."


def test_nothing_outside_the_pending_folder_is_touched(storage):
    outside = [
        put(storage, "wagtail_helpdesk/attachments/2020/01/ticket.pdf", hours_ago=10_000),
        put(storage, "wagtail_helpdesk/pending-archive/old", hours_ago=10_000),
        put(storage, "wagtail_helpdesk/old", hours_ago=10_000),
        put(storage, "old-at-the-root", hours_ago=10_000),
    ]
    inside = put(storage, f"{PENDING_DIR}/old", hours_ago=10_000)
    assert "Deleted 1 pending file older" in cleanup()
    assert not storage.exists(inside)
    assert all(storage.exists(name) for name in outside)


def test_sub_folders_of_the_pending_folder_are_cleaned_too(storage):
    nested = put(storage, f"{PENDING_DIR}/2024/old", hours_ago=100)
    kept = put(storage, f"{PENDING_DIR}/2024/recent", hours_ago=1)
    cleanup()
    assert not storage.exists(nested) and storage.exists(kept)


def test_the_age_can_be_chosen(storage):
    three = put(storage, f"{PENDING_DIR}/three-hours", hours_ago=3)
    one = put(storage, f"{PENDING_DIR}/one-hour", hours_ago=1)
    output = cleanup("--older-than-hours", "2")
    assert not storage.exists(three) and storage.exists(one)
    assert "older than 2 hours" in output


def test_a_dry_run_deletes_nothing(storage):
    old = put(storage, f"{PENDING_DIR}/old", hours_ago=72)
    put(storage, f"{PENDING_DIR}/recent", hours_ago=1)
    output = cleanup("--dry-run")
    assert storage.exists(old)
    assert output.strip() == ("Dry run: 1 pending file older than 48 hours "
                              "would be deleted.")
    # The same run without --dry-run deletes it.
    assert "Deleted 1 pending file" in cleanup()
    assert not storage.exists(old)


@pytest.mark.parametrize("hours", ["0", "-1", "-48"])
def test_an_age_below_one_hour_is_refused(storage, hours):
    old = put(storage, f"{PENDING_DIR}/old", hours_ago=72)
    with pytest.raises(CommandError, match="--older-than-hours must be 1 or more"):
        cleanup(f"--older-than-hours={hours}")
    assert storage.exists(old)


def test_an_age_that_is_not_a_number_is_refused(storage):
    with pytest.raises(CommandError, match="invalid int value"):
        cleanup("--older-than-hours", "two days")


def test_no_pending_folder_yet(storage):
    put(storage, "wagtail_helpdesk/attachments/ticket.pdf", hours_ago=100)
    assert cleanup().strip() == "Deleted 0 pending files older than 48 hours."


def test_files_left_by_an_abandoned_wizard_are_removed(storage):
    """The path the wizard really uses: a file accepted on a step, then the
    citizen goes away."""
    wizard = Wizard({}, page_id=1, block_id="abc")
    errors = wizard.add_files([SimpleUploadedFile("modulo.pdf", PDF_BYTES,
                                                  "application/pdf")], limit=3)
    assert errors == []
    path = wizard.files[0]["path"]
    assert path.startswith(f"{PENDING_DIR}/") and storage.exists(path)
    cleanup()
    assert storage.exists(path)  # just uploaded: the citizen may still be typing
    when = time.time() - 49 * HOUR
    os.utime(storage.path(path), (when, when))
    cleanup()
    assert not storage.exists(path)


# --- other storages -----------------------------------------------------------------------


class NoTimesStorage(FileSystemStorage):
    """A storage that cannot tell modification times (Storage's default)."""

    get_modified_time = Storage.get_modified_time


def use_private_storage(settings, backend, **options):
    settings.STORAGES = {**settings.STORAGES, "wagtail_helpdesk_private": {
        "BACKEND": backend, "OPTIONS": options}}
    settings.WAGTAIL_HELPDESK_PRIVATE_STORAGE = "wagtail_helpdesk_private"


def test_a_storage_without_modification_times_is_a_clear_error(settings, private_media):
    use_private_storage(settings, "tests.notifications.test_cleanup.NoTimesStorage",
                        location=str(private_media))
    storage = private_storage()
    assert isinstance(storage, NoTimesStorage)
    name = storage.save(f"{PENDING_DIR}/old", ContentFile(b"x"))
    with pytest.raises(CommandError, match=r"NoTimesStorage\) cannot tell when a file was "
                                           r"modified"):
        cleanup()
    assert storage.exists(name)


def test_any_storage_with_the_storage_api(settings, monkeypatch):
    """Nothing assumes local files: an in-memory storage works the same way."""
    use_private_storage(settings, "django.core.files.storage.InMemoryStorage")
    storage = private_storage()
    assert isinstance(storage, InMemoryStorage)
    pending = storage.save(f"{PENDING_DIR}/a", ContentFile(b"x"))
    other = storage.save("wagtail_helpdesk/attachments/b", ContentFile(b"x"))
    later = timezone.now() + timedelta(hours=49)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert "Deleted 1 pending file" in cleanup()
    assert not storage.exists(pending) and storage.exists(other)


def test_the_default_age_follows_the_session_lifetime(storage, settings):
    settings.SESSION_COOKIE_AGE = 14 * 24 * HOUR
    kept = put(storage, f"{PENDING_DIR}/ten-days", hours_ago=240)
    gone = put(storage, f"{PENDING_DIR}/fifteen-days", hours_ago=360)
    assert cleanup().strip() == "Deleted 1 pending file older than 336 hours."
    assert storage.exists(kept) and not storage.exists(gone)
