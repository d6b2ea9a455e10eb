"""Short codes: the three modes, formats, uniqueness and concurrency."""

import re
import threading
from unittest import mock

import pytest
from django.db import IntegrityError, connection, connections

from wagtail_helpdesk import services
from wagtail_helpdesk.models import ShortCodeMode, ShortCodeSequence, Ticket
from wagtail_helpdesk.services import shortcodes

RANDOM_RE = re.compile(r"^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$")


def test_sequential_per_kind_and_year(factories):
    factories.settings(short_code_mode=ShortCodeMode.SEQUENTIAL, request_prefix="AST",
                       report_prefix="SEG")
    year = factories.request_ticket().submitted_at.year
    codes = [factories.request_ticket().short_code for _ in range(2)]
    report = factories.report_ticket().short_code
    assert codes == [f"AST-{year}-000002", f"AST-{year}-000003"]
    assert report == f"SEG-{year}-000001"
    assert ShortCodeSequence.objects.get(prefix="AST", year=year).last_value == 3


def test_prefix_comes_from_the_site_setting(factories):
    factories.settings(request_prefix="RIC")
    assert factories.request_ticket().short_code.startswith("RIC-")


def test_sequence_continues_into_a_new_year(factories):
    assert shortcodes.next_sequence_value("SEG", 2030) == 1
    assert shortcodes.next_sequence_value("SEG", 2030) == 2
    assert shortcodes.next_sequence_value("SEG", 2031) == 1
    assert shortcodes.format_sequential("SEG", 2031, 17) == "SEG-2031-000017"


def test_equal_prefixes_still_give_unique_codes(factories):
    """Saved without the form's validation, equal prefixes share one counter."""
    factories.settings(request_prefix="URP", report_prefix="URP")
    codes = [factories.request_ticket().short_code, factories.report_ticket().short_code,
             factories.request_ticket().short_code]
    assert len(set(codes)) == 3 and [c[-6:] for c in codes] == ["000001", "000002", "000003"]


def test_settings_form_refuses_equal_or_malformed_prefixes(factories):
    from django.core.exceptions import ValidationError

    helpdesk = factories.settings()
    helpdesk.request_prefix = helpdesk.report_prefix = "URP"
    with pytest.raises(ValidationError) as exc:
        helpdesk.full_clean()
    assert "report_prefix" in exc.value.message_dict
    helpdesk.report_prefix = "seg-1"
    with pytest.raises(ValidationError) as exc:
        helpdesk.full_clean()
    assert "report_prefix" in exc.value.message_dict


def test_year_is_the_local_year_of_submission(factories, settings):
    from datetime import UTC, datetime

    settings.TIME_ZONE = "Europe/Rome"
    # 23:30 UTC on New Year's Eve is already 2027 in Rome.
    ticket = factories.request_ticket()
    ticket.short_code = None
    ticket.submitted_at = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert shortcodes.assign_short_code(ticket, factories.settings()) == "AST-2027-000001"


def test_off_mode_uses_the_ticket_number(factories):
    factories.settings(short_code_mode=ShortCodeMode.OFF)
    ticket = factories.request_ticket()
    assert ticket.short_code is None
    assert ticket.reference == f"#{ticket.pk}"


def test_random_mode_alphabet_has_no_lookalikes(factories):
    factories.settings(short_code_mode=ShortCodeMode.RANDOM)
    codes = {factories.request_ticket().short_code for _ in range(5)}
    assert len(codes) == 5
    assert all(RANDOM_RE.match(code) for code in codes)
    assert not set("01ILO") & set(shortcodes.ALPHABET)


def test_random_collision_is_retried(factories):
    factories.settings(short_code_mode=ShortCodeMode.RANDOM)
    first = factories.request_ticket()
    with mock.patch.object(shortcodes, "random_code",
                           side_effect=[first.short_code, "ZZZZ2345"]):
        second = factories.request_ticket()
    assert second.short_code == "ZZZZ2345"


def test_short_code_is_unique_in_the_database(factories):
    ticket = factories.request_ticket()
    other = factories.request_ticket()
    with pytest.raises(IntegrityError):
        Ticket.objects.filter(pk=other.pk).update(short_code=ticket.short_code)


def test_drafts_get_their_code_on_submission(factories):
    op = factories.operator(factories.office())
    service = factories.service(op.helpdesk_offices.first())
    draft = services.create_ticket(op, kind="request", channel="phone", draft=True,
                                   service=service, citizen=factories.citizen(),
                                   description="x")
    assert draft.short_code is None
    assert services.submit_ticket(draft, op).short_code.endswith("-000001")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("mode", [ShortCodeMode.SEQUENTIAL, ShortCodeMode.RANDOM])
def test_twenty_concurrent_submissions_get_twenty_codes(factories, mode):
    assert connection.vendor == "postgresql"
    factories.settings(short_code_mode=mode)
    service = factories.service()
    citizen = factories.citizen()
    count = 20
    barrier = threading.Barrier(count)
    codes, errors = [], []
    lock = threading.Lock()

    def work():
        try:
            barrier.wait(timeout=30)
            ticket = services.create_ticket(
                services.SYSTEM, kind="request", channel="api", service=service,
                citizen=citizen, description="Richiesta concorrente",
            )
            with lock:
                codes.append(ticket.short_code)
        except Exception as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(codes) == count and len(set(codes)) == count
    assert Ticket.objects.count() == count
    if mode == ShortCodeMode.SEQUENTIAL:
        numbers = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
        assert numbers == list(range(1, count + 1))  # no gaps, no duplicates


def test_a_citizen_gets_the_prefix_of_the_site_they_submit_on(client, pages, settings):
    """Two sites, one form page: the request sent on the second site's address
    takes that site's prefix (it took the default site's before)."""
    from wagtail.models import Site

    from tests.support.citizen import send_request
    from wagtail_helpdesk.models import HelpdeskSettings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "altro.example.it"]
    pages.factories.settings(short_code_mode=ShortCodeMode.SEQUENTIAL, request_prefix="AST")
    default = Site.objects.get(is_default_site=True)
    other = Site.objects.create(hostname="altro.example.it", port=80, site_name="Altro",
                                root_page=default.root_page)
    other_settings = HelpdeskSettings.for_site(other)
    other_settings.short_code_mode = ShortCodeMode.SEQUENTIAL
    other_settings.request_prefix = "ALT"
    other_settings.privacy_page = HelpdeskSettings.for_site(default).privacy_page
    other_settings.save()

    client.defaults["HTTP_HOST"] = "altro.example.it"
    send_request(client, pages)

    ticket = Ticket.objects.get(status="new")
    assert ticket.short_code.startswith("ALT-"), ticket.short_code
    assert not ShortCodeSequence.objects.filter(prefix="AST").exists()


def test_a_sequential_code_is_saved_with_the_submission(factories):
    """One UPDATE gives the ticket its status and its sequential code."""
    from django.test.utils import CaptureQueriesContext

    factories.settings(short_code_mode=ShortCodeMode.SEQUENTIAL, request_prefix="AST")
    with CaptureQueriesContext(connection) as queries:
        ticket = factories.request_ticket()
    updates = [q["sql"] for q in queries
               if q["sql"].startswith("UPDATE") and Ticket._meta.db_table in q["sql"]
               and "short_code" in q["sql"]]
    assert len(updates) == 1 and "status" in updates[0]
    assert Ticket.objects.get(pk=ticket.pk).short_code == ticket.short_code
