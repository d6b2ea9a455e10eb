"""System checks of a municipality's first week: the public address used in
citizens' e-mails, the sender address, the privacy notice page."""

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from wagtail.models import Page, Site

from wagtail_helpdesk.models import HelpdeskSettings


def ids(**kwargs):
    return sorted(m.id for m in checks.run_checks(**kwargs)
                  if m.id.startswith("wagtail_helpdesk"))


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.WAGTAILADMIN_BASE_URL = "https://www.comune.example.it"
    settings.WAGTAIL_HELPDESK_SITE_URL = ""
    settings.DEFAULT_FROM_EMAIL = "Comune di Esempio <assistenza@comune.example.it>"
    settings.WAGTAIL_HELPDESK_NOTIFY_FROM_EMAIL = ""
    return settings


def test_a_real_address_and_sender_are_clean(production):
    assert ids() == []


@pytest.mark.parametrize("url", ["", "comune.example.it", "ftp://comune.example.it"])
def test_a_missing_base_url_is_reported(production, url):
    production.WAGTAILADMIN_BASE_URL = url
    assert ids() == ["wagtail_helpdesk.W015"]


@pytest.mark.parametrize("url", ["http://example.com", "https://www.example.com/",
                                 "http://EXAMPLE.com:8000"])
def test_wagtails_placeholder_base_url_is_reported(production, url):
    """`wagtail start` writes WAGTAILADMIN_BASE_URL = "http://example.com"."""
    production.WAGTAILADMIN_BASE_URL = url
    assert ids() == ["wagtail_helpdesk.W016"]


@pytest.mark.parametrize("url", ["http://localhost:8000", "http://127.0.0.1:8000",
                                 "http://127.3.2.1", "http://[::1]:8000", "http://app.localhost"])
def test_a_loopback_base_url_is_a_warning(production, url):
    production.WAGTAILADMIN_BASE_URL = url
    assert ids() == ["wagtail_helpdesk.W008"]
    message = next(m for m in checks.run_checks() if m.id == "wagtail_helpdesk.W008")
    assert message.level == checks.WARNING


def test_the_site_url_is_what_citizens_links_use(production):
    """Citizens' links use SITE_URL when set; operators' links the admin's base."""
    production.WAGTAIL_HELPDESK_SITE_URL = "https://www.comune.example.it"
    production.WAGTAILADMIN_BASE_URL = "https://backoffice.comune.example.it"
    assert ids() == []
    production.WAGTAIL_HELPDESK_SITE_URL = "http://example.com"
    found = [m for m in checks.run_checks() if m.id == "wagtail_helpdesk.W016"]
    assert len(found) == 1 and "WAGTAIL_HELPDESK_SITE_URL" in found[0].msg
    production.WAGTAIL_HELPDESK_SITE_URL = "https://www.comune.example.it"
    production.WAGTAILADMIN_BASE_URL = "http://example.com"
    found = [m for m in checks.run_checks() if m.id == "wagtail_helpdesk.W016"]
    assert len(found) == 1 and "operators" in found[0].msg


@pytest.mark.parametrize("sender", ["webmaster@localhost", "Comune <noreply@example.com>",
                                    "nobody"])
def test_a_placeholder_sender_is_a_warning(production, sender):
    production.DEFAULT_FROM_EMAIL = sender
    assert ids() == ["wagtail_helpdesk.W009"]


def test_the_plugins_own_sender_wins(production):
    production.DEFAULT_FROM_EMAIL = "webmaster@localhost"
    production.WAGTAIL_HELPDESK_NOTIFY_FROM_EMAIL = "assistenza@comune.example.it"
    assert ids() == []
    production.WAGTAIL_HELPDESK_NOTIFY_FROM_EMAIL = "helpdesk@localhost"
    found = [m for m in checks.run_checks() if m.id == "wagtail_helpdesk.W009"]
    assert len(found) == 1 and "WAGTAIL_HELPDESK_NOTIFY_FROM_EMAIL" in found[0].msg


def test_with_debug_on_the_addresses_are_not_checked(production):
    production.DEBUG = True
    production.WAGTAILADMIN_BASE_URL = "http://example.com"
    production.DEFAULT_FROM_EMAIL = "webmaster@localhost"
    assert ids() == []


# The privacy notice: a database check (``check --database default``).

def _settings():
    return HelpdeskSettings.for_site(Site.objects.get(is_default_site=True))


@pytest.mark.django_db
def test_the_example_sites_privacy_page_passes(production):
    assert _settings().privacy_page is not None
    assert ids(databases=["default"]) == []


@pytest.mark.django_db
def test_a_site_without_a_privacy_page_is_reported_and_migrate_still_runs(production):
    settings_ = _settings()
    settings_.privacy_page = None
    settings_.save()
    assert ids(databases=["default"]) == ["wagtail_helpdesk.W017"]
    with pytest.raises(SystemCheckError, match="W017"):
        call_command("check", "--database", "default", "--fail-level", "WARNING")
    # A warning, not an error: an upgrade's migrate is never stopped by it.
    call_command("migrate", verbosity=0)
    # Not a check of every command: without --database nothing reads the database.
    assert ids() == []


@pytest.mark.django_db
def test_an_unpublished_privacy_page_is_reported(production):
    page = Page.objects.get(pk=_settings().privacy_page_id)
    page.unpublish()
    assert ids(databases=["default"]) == ["wagtail_helpdesk.W017"]


@pytest.mark.django_db
def test_every_site_needs_its_notice(production):
    home = Site.objects.get(is_default_site=True).root_page
    Site.objects.create(hostname="altro.example.it", root_page=home)
    found = [m for m in checks.run_checks(databases=["default"])
             if m.id == "wagtail_helpdesk.W017"]
    assert len(found) == 1 and "altro.example.it" in found[0].msg


@pytest.mark.django_db
def test_the_privacy_check_waits_for_the_tables(production, monkeypatch):
    """Before the first migrate (the check runs at the start of it) there is
    nothing to read: no error."""
    from django.db import connection

    settings_ = _settings()
    settings_.privacy_page = None
    settings_.save()
    monkeypatch.setattr(connection.introspection, "table_names", lambda *a, **k: [])
    assert ids(databases=["default"]) == []


@pytest.mark.django_db
def test_with_debug_on_the_privacy_page_is_not_checked(production):
    production.DEBUG = True
    settings_ = _settings()
    settings_.privacy_page = None
    settings_.save()
    assert ids(databases=["default"]) == []
