import os

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread

from tests.support.ai import fake_embedder, no_embedder, real_embedder  # noqa: F401 (text models)
from tests.support.api import caller  # noqa: F401 (REST API calls with a token, checked against OpenAPI)
from tests.support.appio_fake import fake_io  # noqa: F401 (App IO built from its spec)
from tests.support.citizen import nominatim, pages  # noqa: F401 (fixtures of the citizens' forms)
from tests.support.desk import make_desk  # noqa: F401 (the help desk a test works at)
from tests.support.dovecot import dovecot, dovecot_server  # noqa: F401 (the IMAP server)
from tests.support.oidc_fake import federation  # noqa: F401 (a SPID/CIE federation for the login tests)
from tests.support.rsa_pool import (  # noqa: F401 (RSA keys made once per session)
    pooled_rsa_keys,
    rsa_key_pool,
)
from tests.support.smtp import smtp  # noqa: F401 (a real SMTP server on loopback)


def _on_postgres():
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class SerialWSGIServer(WSGIServer):
    """The browser tests' live server on SQLite: one request at a time.

    With the in-memory test database, Django gives every request thread of
    its threaded live server the *same* SQLite connection. Two requests at
    once (a page and the script it starts: the presence heartbeat, the chat
    notifier) can then deadlock: one thread holds the connection's mutex
    inside a query that calls a Python function (``django_datetime_cast_date``)
    and waits for the GIL, while the other holds the GIL and waits for the
    mutex. Seen as a browser test hanging for ever on the dashboard. Serving
    requests one after the other (Django then closes each connection) rules
    it out; on PostgreSQL each thread has its own connection."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


if not _on_postgres():
    LiveServerThread.server_class = SerialWSGIServer


def _has_chromium():
    return os.path.exists(CHROMIUM)


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are deselected on SQLite, browser tests where no
    Chromium is installed: never skipped, always said."""
    rules = [
        ("postgres", _on_postgres(),
         "PostgreSQL-only tests deselected on SQLite: `make test-postgres` (and CI) run them."),
        ("browser", _has_chromium(),
         f"browser tests deselected: no Chromium at {CHROMIUM} (CI installs it; "
         "`apt-get install chromium` to run them)."),
        ("imap", os.path.exists("/usr/sbin/dovecot"),
         "IMAP tests deselected: no Dovecot at /usr/sbin/dovecot (CI installs it; "
         "`apt-get install dovecot-imapd` to run them)."),
    ]
    notes = []
    for marker, available, message in rules:
        if available:
            continue
        deselected = [item for item in items if item.get_closest_marker(marker)]
        _deselect(config, items, deselected)
        if deselected:
            notes.append(f"{len(deselected)} {message}")
    if os.environ.get("HELPDESK_TESTS_DATABASE_ONLY") == "1":
        deselected = [item for item in items if not _uses_the_database(item)]
        _deselect(config, items, deselected)
        notes.append(f"{len(deselected)} tests that use no database deselected "
                     "(HELPDESK_TESTS_DATABASE_ONLY=1: CI runs them once, on SQLite).")
    config._helpdesk_notes = notes


#: pytest-django's fixtures that give a test the database.
_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences",
                      "django_db_serialized_rollback", "live_server"}


def _uses_the_database(item):
    """Whether the test reaches the test database (a fixture it uses, however
    indirectly, or the django_db marker) or is PostgreSQL-only."""
    return bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
                or item.get_closest_marker("django_db") or item.get_closest_marker("postgres"))


def _deselect(config, items, deselected):
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        gone = {id(item) for item in deselected}
        items[:] = [item for item in items if id(item) not in gone]


def pytest_terminal_summary(terminalreporter, config):
    for note in getattr(config, "_helpdesk_notes", []):
        terminalreporter.write_line(note)


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make around it are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Django's connections are per context, and Playwright's event loop gives
    # the tests a new one: hand it the copy of the database taken after the
    # migrations, or serialized rollback would restore nothing.
    serialized = {alias: connections[alias]._test_serialized_contents
                  for alias in connections
                  if hasattr(connections[alias], "_test_serialized_contents")}
    with sync_playwright() as playwright:
        for alias, contents in serialized.items():
            connections[alias]._test_serialized_contents = contents
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="it-IT", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def clear_cache():
    from django.core.cache import cache

    from wagtail_helpdesk.inbound.matching import forget_mailboxes
    from wagtail_helpdesk.services.inbound import forget_staff

    cache.clear()
    forget_mailboxes()  # the worker's memory of the mailboxes' and staff's addresses
    forget_staff()


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
    from tests.support import factories as f

    return f


@pytest.fixture
def jpeg_upload():
    """Build an uploaded JPEG (with an EXIF GPS block unless told otherwise)."""
    from tests.support.images import jpeg_with_gps

    def make(name="foto.jpg", **kwargs):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile(name, jpeg_with_gps(**kwargs), content_type="image/jpeg")

    return make
