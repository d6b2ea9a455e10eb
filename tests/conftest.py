import os

import pytest


def _on_postgres():
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are deselected (never skipped) on SQLite, and said so."""
    if _on_postgres():
        return
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("postgres") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
        config._helpdesk_pg_deselected = len(deselected)


def pytest_terminal_summary(terminalreporter, config):
    count = getattr(config, "_helpdesk_pg_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"{count} PostgreSQL-only tests deselected on SQLite: "
            "`make test-postgres` (and CI) run them."
        )


@pytest.fixture(autouse=True)
def clear_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def reset_language():
    """A request in Italian leaves Italian active in the thread: reset it."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Each test gets its own private attachment folder."""
    settings.WAGTAIL_HELPDESK_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "private"


@pytest.fixture
def factories(db):
    from tests import factories as f

    return f


@pytest.fixture
def jpeg_upload():
    """Build an uploaded JPEG (with an EXIF GPS block unless told otherwise)."""
    from tests.images import jpeg_with_gps

    def make(name="foto.jpg", **kwargs):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile(name, jpeg_with_gps(**kwargs), content_type="image/jpeg")

    return make
