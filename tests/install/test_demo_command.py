"""The ``helpdesk_demo`` management command and its builder."""

import io
from datetime import timedelta

import pytest
from codicefiscale import codicefiscale
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from wagtail.models import Site

from wagtail_helpdesk.demo import assist, builder, chats, data
from wagtail_helpdesk.demo.plans import plan_tickets
from wagtail_helpdesk.groups import ADMINISTRATORS, OPERATORS, SUPERVISORS
from wagtail_helpdesk.models import (
    Channel,
    Citizen,
    EventKind,
    HelpdeskSettings,
    Kind,
    Notification,
    Office,
    ReportCategory,
    Service,
    ServiceCategory,
    ShortCodeMode,
    Ticket,
    TicketEvent,
)
from wagtail_helpdesk.sla import add_working_days
from wagtail_helpdesk.workflow import Status

pytestmark = pytest.mark.django_db

TICKETS = 40


def run_demo(*args, debug=True, tickets=TICKETS):
    out = io.StringIO()
    with override_settings(DEBUG=debug):
        call_command("helpdesk_demo", "--tickets", str(tickets), *args, stdout=out)
    return out.getvalue()


def counts():
    User = get_user_model()
    models = [Office, Service, ServiceCategory, ReportCategory, User, Citizen, Ticket,
              TicketEvent, Notification]
    return {m.__name__: m.objects.count() for m in models}


def test_demo_accounts_have_the_demo_password_and_their_groups():
    run_demo()
    User = get_user_model()
    operatore = User.objects.get(username="operatore")
    responsabile = User.objects.get(username="responsabile")
    admin = User.objects.get(username="admin")
    for user in (operatore, responsabile, admin):
        assert user.check_password("demo")
        assert user.first_name and user.last_name and user.email.endswith("@comune.example.it")
    assert set(operatore.groups.values_list("name", flat=True)) == {OPERATORS}
    assert set(responsabile.groups.values_list("name", flat=True)) == {SUPERVISORS}
    assert set(admin.groups.values_list("name", flat=True)) == {ADMINISTRATORS}
    assert admin.is_superuser and admin.is_staff
    assert not operatore.is_superuser and not responsabile.is_superuser

    operator_offices = set(operatore.helpdesk_offices.values_list("slug", flat=True))
    assert "urp" in operator_offices and len(operator_offices) == 2
    assert responsabile.helpdesk_offices.filter(slug="urp").exists()
    assert responsabile.helpdesk_offices.count() >= 3
    # Every office has somebody working its tickets; the extra operators cannot log in.
    assert not Office.objects.filter(members__isnull=True).exists()
    extras = User.objects.exclude(username__in=["operatore", "responsabile", "admin"])
    assert extras.count() >= 5
    assert not any(u.has_usable_password() for u in extras)


def test_catalogue_uses_the_preloaded_service_categories():
    categories_before = ServiceCategory.objects.count()
    run_demo()
    assert ServiceCategory.objects.count() == categories_before  # matched by slug, not added
    assert Office.objects.count() == 7
    urp = Office.objects.get(slug="urp")
    assert urp.name == "Ufficio Relazioni con il Pubblico (URP)"
    assert not Office.objects.exclude(email__endswith="@comune.example.it").exists()
    assert Service.objects.get(slug="carta-identita-elettronica").category.slug == (
        "anagrafe-e-stato-civile"
    )
    assert Service.objects.filter(sla_days__isnull=False).count() >= 10
    assert ReportCategory.objects.count() == 10
    assert set(ReportCategory.objects.values_list("slug", flat=True)) >= {
        "buche-stradali", "illuminazione-pubblica", "rifiuti-abbandonati", "verde-pubblico",
        "segnaletica-stradale", "acqua-fognature", "graffiti-vandalismi", "animali",
    }


def test_site_settings_get_a_sender_only_where_empty():
    site = Site.objects.get(is_default_site=True)
    existing = HelpdeskSettings.for_site(site)
    existing.sender_name = "Comune di Prova"
    existing.save()
    run_demo()
    settings = HelpdeskSettings.for_site(site)
    assert settings.sender_name == "Comune di Prova"
    assert settings.sender_email == "assistenza@comune.example.it"
    assert settings.short_code_mode == ShortCodeMode.SEQUENTIAL


def test_tickets_cover_both_kinds_every_channel_and_every_status():
    run_demo()
    tickets = Ticket.objects.all()
    assert tickets.count() == TICKETS + len(chats.CHATS) + assist.EXAMPLES
    assert set(tickets.values_list("kind", flat=True)) == set(Kind.values)
    assert set(tickets.values_list("channel", flat=True)) == set(Channel.values)
    assert set(tickets.values_list("status", flat=True)) == set(Status.values)
    assert not tickets.exclude(status=Status.DRAFT).filter(short_code__isnull=True).exists()
    assert not tickets.filter(kind=Kind.REQUEST, citizen__isnull=True).exists()
    # Italian texts from the demo catalogue, placeholders filled in.
    request_subjects = {subject for row in data.SERVICES for subject, _text in row[-1]}
    request_subjects.add(assist.LONG_REQUEST[1])  # the AI assist's long request
    for ticket in tickets:
        assert ticket.subject and ticket.description
        assert "{" not in ticket.subject + ticket.description
        if ticket.kind == Kind.REQUEST and ticket.channel != Channel.CHAT:
            assert ticket.subject in request_subjects
    assert len(set(tickets.values_list("subject", flat=True))) > TICKETS // 2


def test_live_chats_are_waiting_active_and_closed_with_their_messages():
    from wagtail_helpdesk.models import Conversation

    run_demo()
    found = {c.ticket.service.slug: c for c in Conversation.objects.select_related(
        "ticket__service", "operator").order_by("pk")}
    assert list(found) == [slug for slug, *_rest in chats.CHATS]
    for slug, person, lines, outcome in chats.CHATS:
        c = found[slug]
        assert c.state == outcome and c.ticket.channel == Channel.CHAT
        assert c.citizen.given_name == person["given_name"]
        bodies = list(c.messages.filter(author_kind__in=["citizen", "operator"])
                      .order_by("seq").values_list("author_kind", "body"))
        assert bodies == lines
        assert (c.operator.username if c.operator else None) == (
            None if outcome == "waiting" else chats.OPERATOR)
    closed = found["biblioteca-eventi"]
    assert closed.ticket.status == Status.RESOLVED
    rating = closed.ticket.events.get(kind=EventKind.RATING)
    assert rating.data["conversation"] == closed.pk
    # Built once: a second run adds no chat.
    run_demo()
    assert Conversation.objects.count() == len(chats.CHATS)


def test_reports_are_placed_in_the_town_with_an_address():
    run_demo()
    reports = Ticket.objects.filter(kind=Kind.REPORT)
    assert reports.exists()
    for report in reports:
        assert abs(float(report.latitude) - 45.07) <= 0.03
        assert abs(float(report.longitude) - 7.68) <= 0.03
        assert report.address.split()[0] in {"Via", "Corso", "Piazza", "Viale", "Largo", "Strada"}
        assert report.address.split(", ")[-1].isdigit()
    assert not Ticket.objects.filter(kind=Kind.REQUEST, latitude__isnull=False).exists()


def test_tickets_have_consistent_timelines_spread_over_two_months():
    run_demo()
    now = timezone.now()
    kinds = set(TicketEvent.objects.values_list("kind", flat=True))
    assert kinds >= {
        EventKind.CREATED, EventKind.SUBMITTED, EventKind.TAKEN_CHARGE, EventKind.REPLY,
        EventKind.NOTE, EventKind.CITIZEN_MESSAGE, EventKind.STATUS_CHANGED,
        EventKind.RESOLVED, EventKind.REOPENED, EventKind.TRANSFERRED,
        EventKind.PRIORITY_CHANGED,
    }
    created = list(Ticket.objects.values_list("created_at", flat=True))
    assert min(created) < now - timedelta(days=14)
    assert min(created) > now - timedelta(days=61)
    # The live chats happen now, not in the dated history.
    history = Ticket.objects.exclude(channel=Channel.CHAT)
    for ticket in history.select_related("service", "report_category"):
        events = list(ticket.events.order_by("pk"))
        times = [e.created_at for e in events]
        assert events[0].kind == EventKind.CREATED
        assert times == sorted(times), ticket.pk  # order by time == order of creation
        assert times[0] == ticket.created_at
        assert times[-1] == ticket.last_activity_at == ticket.updated_at
        assert times[-1] < now
        if ticket.status != Status.DRAFT:
            submitted = next(e for e in events if e.kind == EventKind.SUBMITTED)
            assert submitted.created_at == ticket.submitted_at
            sla = (ticket.service or ticket.report_category).sla_days
            expected_due = add_working_days(ticket.submitted_at, sla) if sla else None
            assert ticket.due_at == expected_due
        if ticket.status == Status.RESOLVED:
            assert ticket.resolution_type is not None and ticket.resolution_text
            assert ticket.resolved_at == [e for e in events if e.kind == "resolved"][-1].created_at
        for notification in ticket.notifications.select_related("event"):
            assert notification.created_at == notification.event.created_at
            assert notification.next_attempt_at == notification.created_at
    assert Ticket.objects.filter(status=Status.IN_PROGRESS, assignee__isnull=False).exists()
    assert not Ticket.objects.filter(status=Status.NEW, assignee__isnull=False).exists()


def test_citizens_have_names_and_valid_fiscal_codes():
    run_demo()
    # Besides the people who typed their name in a live chat (declared, no fiscal code).
    citizens = Citizen.objects.filter(conversations__isnull=True)
    assert citizens.count() == builder.CITIZENS
    for citizen in citizens:
        assert citizen.given_name and citizen.family_name
        assert codicefiscale.is_valid(citizen.fiscal_code)
        assert codicefiscale.decode(citizen.fiscal_code)["birthplace"]["name"].upper() == "TORINO"
        assert citizen.email or citizen.phone
    with_email = citizens.filter(email__endswith="@example.org").count()
    assert with_email > builder.CITIZENS // 2
    assert citizens.exclude(phone="").exists()


def test_running_twice_creates_nothing_new():
    run_demo()
    before = counts()
    out = run_demo()
    assert counts() == before
    assert "Demo tickets already present: no ticket created." in out
    assert "nothing new created" in out


def test_existing_accounts_keep_their_password():
    get_user_model().objects.create_user(username="admin", password="segreta")
    out = run_demo()
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("segreta")
    assert admin.groups.filter(name=ADMINISTRATORS).exists()
    assert "password left unchanged" in out


def test_refuses_to_run_with_debug_off():
    with pytest.raises(CommandError) as excinfo:
        run_demo(debug=False)
    message = str(excinfo.value)
    assert "DEBUG = False" in message
    assert 'password "demo"' in message
    assert "--force" in message
    assert not get_user_model().objects.filter(username="operatore").exists()
    assert not Ticket.objects.exists()


def test_force_runs_with_debug_off():
    run_demo("--force", debug=False)
    assert get_user_model().objects.filter(username="operatore").exists()
    assert Ticket.objects.count() == TICKETS + len(chats.CHATS) + assist.EXAMPLES


def test_summary_shows_counts_per_status_and_the_logins():
    out = run_demo()
    assert f"Created {TICKETS} demo tickets" in out
    for status in Status.values:
        n = Ticket.objects.filter(status=status).count()
        assert any(line.split()[:2] == [status, str(n)] for line in out.splitlines()), status
    for username in ("operatore", "responsabile", "admin"):
        assert f"  {username} " in out
    assert 'password "demo"' in out


def test_the_data_is_the_same_on_every_run():
    now = timezone.now()
    specs = builder.citizen_specs()
    assert specs == builder.citizen_specs()
    assert plan_tickets(builder.SEED, TICKETS, now, specs) == plan_tickets(
        builder.SEED, TICKETS, now, specs
    )
    assert plan_tickets(builder.SEED, TICKETS, now, specs) != plan_tickets(
        builder.SEED + 1, TICKETS, now, specs
    )


def test_historic_notifications_are_retired_and_recent_ones_stay_queued():
    from datetime import timedelta

    from django.utils import timezone

    run_demo()
    day_ago = timezone.now() - timedelta(days=1, minutes=5)
    old = Notification.objects.filter(created_at__lt=day_ago)
    assert old.exists()
    assert set(old.values_list("status", flat=True)) == {"skipped"}
    assert not Notification.objects.filter(status="pending", created_at__lt=day_ago).exists()
    recent = Notification.objects.filter(created_at__gte=timezone.now() - timedelta(hours=23))
    assert recent.exists() and set(recent.values_list("status", flat=True)) == {"pending"}


def test_demo_admin_speaks_italian(client):
    run_demo(tickets=0)
    client.login(username="operatore", password="demo")
    response = client.get("/admin/helpdesk/services/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="it"' in html and "Add service" not in html


def test_offices_get_the_default_quick_replies():
    from wagtail_helpdesk.demo.replies import default_office_replies
    from wagtail_helpdesk.models import QuickReply

    run_demo(tickets=0)
    per_office = len(default_office_replies())
    assert per_office >= 3
    assert QuickReply.objects.filter(owner=None).count() == per_office * Office.objects.count()
    run_demo(tickets=0)  # idempotent
    assert QuickReply.objects.count() == per_office * Office.objects.count()


def test_the_ai_assist_has_something_to_show():
    """Reports of the same problem by several citizens (a group of five and
    one of three: the grouped reports, the possible duplicates) and a long
    request (the summary)."""
    from wagtail_helpdesk.ai.clusters import report_clusters
    from wagtail_helpdesk.ai.summary import ticket_summary

    run_demo()
    sizes = sorted((c.size for c in report_clusters(Ticket.objects.all())), reverse=True)
    assert sizes[:2] >= [5, 3], sizes
    long = Ticket.objects.get(subject=assist.LONG_REQUEST[1])
    events = list(long.events.order_by("created_at", "pk"))
    assert ticket_summary(long, events).long
