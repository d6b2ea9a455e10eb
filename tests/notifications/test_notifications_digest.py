"""New tickets in an operator's offices: at once, in a daily summary (the
default) or never, as each operator chooses in their Wagtail account."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from wagtail_helpdesk.models import NewTicketMail, Notification, OperatorPreferences, Ticket
from wagtail_helpdesk.notifications import jobs, tasks
from wagtail_helpdesk.services import CitizenActor

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(factories):
    return factories.office(name="Tributi")


def submit(factories, office, when=None):
    person = factories.citizen()
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                      service_=factories.service(office))
    if when is not None:
        Ticket.objects.filter(pk=ticket.pk).update(submitted_at=when)
    return ticket


def choose(user, choice):
    OperatorPreferences.objects.update_or_create(user=user, defaults={"new_tickets": choice})


def summing_up_since(user, when):
    """The operator's summaries run already: the last one ended at ``when``."""
    OperatorPreferences.objects.update_or_create(user=user, defaults={"digest_until": when})


def at(hour, days=0):
    """Today (local time) at ``hour`` o'clock, ``days`` later."""
    today = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime(today.year, today.month, today.day, hour))


def test_who_chose_at_once_gets_one_mail_per_new_ticket(factories, office, smtp):
    eager, calm, never = (factories.operator(office) for _ in range(3))
    choose(eager, NewTicketMail.IMMEDIATE)
    choose(never, NewTicketMail.NEVER)
    ticket = submit(factories, office)
    (row,) = Notification.objects.filter(template="operator/new_ticket")
    assert row.recipient_user == eager and row.ticket == ticket
    tasks.deliver([row.pk])
    (message,) = smtp.messages
    assert message["Subject"] == f"[{ticket.short_code}] Nuovo ticket nel tuo ufficio"
    assert "Tributi" in message.get_body(("plain",)).get_content()
    # Another office's ticket: not theirs.
    submit(factories, factories.office())
    assert Notification.objects.filter(template="operator/new_ticket").count() == 1


def test_the_daily_summary_lists_the_new_tickets_once(factories, office, smtp, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://comune.example.it"
    settings.WAGTAIL_HELPDESK_NOTIFY_DIGEST_HOUR = 8
    operator = factories.operator(office)  # no choice made: the daily summary
    other_office = factories.operator(factories.office())
    for user in (operator, other_office):
        summing_up_since(user, at(8, days=-1))
    first = submit(factories, office, when=at(9, days=-1))
    second = submit(factories, office, when=at(7))
    late = submit(factories, office, when=at(8, days=0) + timedelta(minutes=5))
    submit(factories, factories.office(), when=at(10, days=-1))  # not their office

    assert jobs.daily_digests(now=at(7, days=0) + timedelta(minutes=59)) == 0  # not 8 yet…
    assert jobs.daily_digests(now=at(8, days=0) + timedelta(minutes=1)) == 0  # …nor just 8
    assert not Notification.objects.filter(template="operator/daily_digest").exists()
    assert jobs.daily_digests(now=at(8, days=0) + timedelta(minutes=10)) == 1
    assert jobs.daily_digests(now=at(9, days=0)) == 0  # once a day
    (row,) = Notification.objects.filter(template="operator/daily_digest")
    assert row.recipient_user == operator and row.ticket is None
    assert row.payload["tickets"] == [first.pk, second.pk] and row.payload["total"] == 2
    assert not Notification.objects.filter(template="operator/daily_digest",
                                           recipient_user=other_office).exists()
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # 8 o'clock
    tasks.deliver([row.pk])
    (message,) = smtp.messages
    assert message["Subject"] == "2 nuovi ticket nei tuoi uffici"
    text = message.get_body(("plain",)).get_content()
    assert first.short_code in text and second.short_code in text
    assert late.short_code not in text  # after 8: in tomorrow's summary
    assert f"https://comune.example.it/admin/helpdesk/tickets/{first.pk}/" in text
    assert "non ancora assegnato" in text
    html = message.get_body(("html",)).get_content()  # links are links in the HTML part
    assert f'href="https://comune.example.it/admin/helpdesk/tickets/{first.pk}/"' in html

    # The next day's summary starts where this one ended.
    assert jobs.daily_digests(now=at(8, days=1) + timedelta(minutes=5)) == 1
    tomorrow = Notification.objects.filter(template="operator/daily_digest").latest("pk")
    assert tomorrow.payload["tickets"] == [late.pk]


def test_the_first_run_starts_the_count_and_nothing_new_sends_nothing(factories, office):
    quiet = factories.operator(office)
    submit(factories, office, when=at(9, days=-1))  # before the summaries began: not listed
    assert jobs.daily_digests(now=at(9)) == 0  # the first run only starts the count
    assert OperatorPreferences.objects.get(user=quiet).digest_until == at(8)
    assert jobs.daily_digests(now=at(9, days=1)) == 0  # nothing new for anyone
    eager, never = factories.operator(office), factories.operator(office)
    choose(eager, NewTicketMail.IMMEDIATE)
    choose(never, NewTicketMail.NEVER)
    submit(factories, office, when=at(9, days=1) + timedelta(hours=1))
    assert jobs.daily_digests(now=at(9, days=2)) == 1
    assert list(Notification.objects.filter(template="operator/daily_digest")
                .values_list("recipient_user", flat=True)) == [quiet.pk]


def test_only_tickets_the_operator_may_see_now_are_told(factories, office, smtp):
    from wagtail_helpdesk.models import OfficeMembership

    member = factories.operator(office)
    leaver = factories.operator(office)
    no_role = factories.user(offices=[office], group=None)  # a member without helpdesk rights
    for user in (member, leaver, no_role):
        summing_up_since(user, at(8, days=-1))
        choose(user, NewTicketMail.DAILY)
    ticket = submit(factories, office, when=at(9, days=-1))
    assert jobs.daily_digests(now=at(9)) == 2  # not the member without rights
    rows = {n.recipient_user_id: n for n in
            Notification.objects.filter(template="operator/daily_digest")}
    assert set(rows) == {member.pk, leaver.pk}
    OfficeMembership.objects.filter(user=leaver).delete()  # leaves before delivery
    Notification.objects.update(next_attempt_at=timezone.now())
    tasks.deliver([n.pk for n in rows.values()])
    assert [m["To"] for m in smtp.messages] == [member.email]
    assert Notification.objects.get(pk=rows[leaver.pk].pk).status == "skipped"
    # At once: the same rule, and a deactivated account gets nothing.
    choose(member, NewTicketMail.IMMEDIATE)
    choose(no_role, NewTicketMail.IMMEDIATE)
    submit(factories, office)
    (row,) = Notification.objects.filter(template="operator/new_ticket")
    assert row.recipient_user == member
    member.is_active = False
    member.save(update_fields=["is_active"])
    tasks.deliver([row.pk])
    assert Notification.objects.get(pk=row.pk).status == "skipped"
    assert ticket.short_code in smtp.messages[0].get_body(("plain",)).get_content()


def test_a_long_summary_lists_fifty_and_counts_the_rest(factories, office, monkeypatch):
    from wagtail_helpdesk.services import digests

    monkeypatch.setattr(digests, "LISTED", 3)
    summing_up_since(factories.operator(office), at(8, days=-1))
    for n in range(5):
        submit(factories, office, when=at(9, days=-1) + timedelta(minutes=n))
    assert jobs.daily_digests(now=at(9)) == 1
    row = Notification.objects.get(template="operator/daily_digest")
    assert len(row.payload["tickets"]) == 3 and row.payload["total"] == 5


def test_operators_choose_in_their_account(client, factories, office):
    operator = factories.operator(office)
    client.force_login(operator)
    page = client.get("/admin/account/").content.decode()
    assert 'name="helpdesk-new_tickets"' in page and "Once a day: a summary" in page
    form = {"helpdesk-new_tickets": "immediate", "locale-preferred_language": "",
            "locale-current_time_zone": "", "theme-theme": "system", "theme-density": "default",
            "theme-contrast": "system", "theme-keyboard_shortcuts": "on",
            "name_email-first_name": "Anna", "name_email-last_name": "Neri",
            "name_email-email": operator.email}
    response = client.post("/admin/account/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert OperatorPreferences.objects.get(user=operator).new_tickets == "immediate"
    # Back to the summary: it starts from now, nothing mailed one by one is listed again.
    client.post("/admin/account/", {**form, "helpdesk-new_tickets": "daily"})
    preferences = OperatorPreferences.objects.get(user=operator)
    assert preferences.new_tickets == "daily"
    assert preferences.digest_until == jobs.digest_time(timezone.now())
    # Administrators outside any office have no such e-mails, and no panel.
    client.force_login(factories.administrator())
    assert 'name="helpdesk-new_tickets"' not in client.get("/admin/account/").content.decode()
