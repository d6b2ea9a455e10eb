"""The Overviews admin page: who may use it, the request form and its
errors, the list and its refresh, permission-checked downloads, deletion,
the monthly e-mail toggle. Query counts pinned."""

import json
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail_helpdesk.admin import overviews as admin_overviews
from wagtail_helpdesk.admin.metrics import local_date
from wagtail_helpdesk.models import Overview, OverviewStatus, OverviewSubscription
from wagtail_helpdesk.overviews import mail, tasks


def url(name="wagtail_helpdesk_overviews", *args):
    return reverse(name, args=args)


def sidebar(client):
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    return re.search(r'id="wagtail-sidebar-props"[^>]*>(.*?)</script>', html, re.S)[1]


def done(user, offices, all_offices=False):
    overview = Overview.objects.create(period_start=date(2025, 2, 1),
                                       period_end=date(2025, 2, 28), requested_by=user,
                                       all_offices=all_offices)
    overview.offices.set(offices)
    tasks.generate(overview.pk)
    overview.refresh_from_db()
    return overview


@pytest.fixture
def town(factories):
    a, b = factories.office("Anagrafe"), factories.office("Tributi")
    return type("Town", (), {"a": a, "b": b, "boss_a": factories.supervisor(a),
                             "boss_b": factories.supervisor(b),
                             "boss_ab": factories.supervisor(a, b),
                             "operator": factories.operator(a),
                             "admin": factories.administrator()})


def test_operator_is_refused_everywhere_and_has_no_menu_item(client, town):
    overview = done(town.boss_a, [town.a])
    client.force_login(town.operator)
    for target in (url(), url("wagtail_helpdesk_overviews_download", overview.pk, "pdf")):
        response = client.get(target)
        assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    for target in (url("wagtail_helpdesk_overviews_delete", overview.pk),
                   url("wagtail_helpdesk_overviews_subscription")):
        assert client.post(target, {"active": "1"}).status_code == 302
    assert Overview.objects.filter(pk=overview.pk).exists()
    assert not OverviewSubscription.objects.exists()
    assert "helpdesk-overviews" not in sidebar(client)


def test_anonymous_goes_to_login_and_no_public_url(client, town):
    overview = done(town.boss_a, [town.a])
    response = client.get(url("wagtail_helpdesk_overviews_download", overview.pk, "pdf"))
    assert response.status_code == 302 and reverse("wagtailadmin_login") in response["Location"]
    # Not under MEDIA_URL: the private storage has no URL of its own to hand out.
    from django.conf import settings

    assert not overview.pdf.name.startswith(settings.MEDIA_URL.strip("/"))
    assert client.get(settings.MEDIA_URL + overview.pdf.name).status_code == 404


def test_supervisor_sees_menu_item_and_offers_only_their_offices(client, town):
    client.force_login(town.boss_a)
    assert "helpdesk-overviews" in sidebar(client)
    html = client.get(url()).content.decode()
    assert "Anagrafe" in html and "Tributi" not in html
    assert 'name="all_offices"' not in html


def test_administrator_may_choose_all_offices(client, town, django_capture_on_commit_callbacks):
    client.force_login(town.admin)
    html = client.get(url()).content.decode()
    assert "Anagrafe" in html and "Tributi" in html and 'name="all_offices"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(), {"period": "last_month", "all_offices": "on"})
    assert response.status_code == 302
    overview = Overview.objects.get()
    assert overview.all_offices and overview.status == OverviewStatus.DONE
    first, last = mail.last_month(local_date(timezone.now()))
    assert (overview.period_start, overview.period_end) == (first, last)


def test_request_this_month_and_custom(client, town):
    client.force_login(town.boss_a)
    assert client.post(url(), {"period": "this_month", "offices": [town.a.pk]}).status_code == 302
    assert client.post(url(), {"period": "custom", "start": "2025-01-10", "end": "2025-02-09",
                               "offices": [town.a.pk]}).status_code == 302
    periods = list(Overview.objects.order_by("pk").values_list("period_start", "period_end"))
    today = local_date(timezone.now())
    assert periods == [(today.replace(day=1), today), (date(2025, 1, 10), date(2025, 2, 9))]
    assert all(o.requested_by == town.boss_a for o in Overview.objects.all())


@pytest.mark.parametrize("data, field, message", [
    ({"period": "custom", "end": "2025-02-09"}, "start", "Give the first day of the period."),
    ({"period": "custom", "start": "2025-03-10", "end": "2025-02-09"}, "end",
     "The last day cannot come before the first."),
    ({"period": "custom", "start": "2024-01-01", "end": "2025-02-09"}, "end",
     "A period of at most 366 days."),
    ({"period": "custom", "start": "2025-01-01", "end": "2999-01-01"}, "end",
     "The period cannot end in the future."),
    ({"period": "custom", "start": "nonsense", "end": "2025-02-09"}, "start",
     "Enter a valid date."),
    ({"period": "last_month"}, "offices", "Choose at least one office."),
])
def test_form_errors_keep_the_input(client, town, data, field, message):
    client.force_login(town.boss_a)
    response = client.post(url(), {**data, "offices": [town.a.pk]} if field != "offices"
                           else data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors[field]
    for value in data.values():
        assert f'value="{value}"' in response.content.decode()
    assert not Overview.objects.exists()


def test_supervisor_cannot_request_another_offices_figures(client, town):
    client.force_login(town.boss_a)
    response = client.post(url(), {"period": "last_month", "offices": [town.b.pk]})
    assert response.status_code == 200 and response.context["form"].errors["offices"]
    response = client.post(url(), {"period": "last_month", "all_offices": "on"})
    assert response.status_code == 200  # the field does not exist for them
    assert not Overview.objects.exists()


def test_list_shows_only_own_overviews_with_status_and_constant_queries(client, town):
    done(town.boss_a, [town.a])
    done(town.boss_b, [town.b])
    client.force_login(town.boss_a)
    client.get(url())  # warm the caches (settings, site)
    with CaptureQueriesContext(connection) as first:
        html = client.get(url()).content.decode()
    assert html.count('<tr id="overview-') == 1
    assert "Ready" in html and "download/pdf/" in html and "download/xlsx/" in html
    for _ in range(4):
        done(town.boss_a, [town.a])
    Overview.objects.create(period_start=date(2025, 1, 1), period_end=date(2025, 1, 31),
                            requested_by=town.boss_a, status=OverviewStatus.RUNNING,
                            progress=40, started_at=timezone.now())
    with CaptureQueriesContext(connection) as more:
        html = client.get(url()).content.decode()
    assert html.count('<tr id="overview-') == 6
    assert len(more) == len(first)
    # Being generated: the progress bar and the polling controller.
    assert 'value="40"' in html and 'data-controller="helpdesk-overviews"' in html
    assert "overviews.js" in html


def test_no_polling_when_nothing_runs(client, town):
    done(town.boss_a, [town.a])
    client.force_login(town.boss_a)
    assert 'data-controller="helpdesk-overviews"' not in client.get(url()).content.decode()


def test_download_is_an_attachment_for_the_requester(client, town):
    overview = done(town.boss_a, [town.a])
    client.force_login(town.boss_a)
    for kind, start in (("pdf", b"%PDF"), ("xlsx", b"PK")):
        response = client.get(url("wagtail_helpdesk_overviews_download", overview.pk, kind))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert "resoconto-20250201-20250228" in response["Content-Disposition"]
        assert b"".join(response.streaming_content).startswith(start)
        assert "no-store" in response["Cache-Control"]
    assert client.get(url("wagtail_helpdesk_overviews_download", overview.pk,
                          "txt")).status_code == 404


def test_download_permission(client, town):
    overview = done(town.boss_ab, [town.a, town.b])
    # A supervisor of only one of its offices: refused.
    client.force_login(town.boss_a)
    assert client.get(url("wagtail_helpdesk_overviews_download", overview.pk,
                          "pdf")).status_code == 302
    # Someone who sees every office: allowed.
    client.force_login(town.admin)
    assert client.get(url("wagtail_helpdesk_overviews_download", overview.pk,
                          "pdf")).status_code == 200
    # A supervisor of the overview's only office: allowed.
    mine = done(town.boss_ab, [town.a])
    client.force_login(town.boss_a)
    assert client.get(url("wagtail_helpdesk_overviews_download", mine.pk,
                          "pdf")).status_code == 200
    # An "all offices" overview: only for those who see every office.
    everything = done(town.admin, [], all_offices=True)
    assert client.get(url("wagtail_helpdesk_overviews_download", everything.pk,
                          "pdf")).status_code == 302


def test_download_of_an_unfinished_overview_is_not_found(client, town):
    overview = Overview.objects.create(period_start=date(2025, 2, 1),
                                       period_end=date(2025, 2, 28), requested_by=town.boss_a)
    client.force_login(town.boss_a)
    assert client.get(url("wagtail_helpdesk_overviews_download", overview.pk,
                          "pdf")).status_code == 404


def test_delete_by_the_requester_removes_files(client, town):
    overview = done(town.boss_a, [town.a])
    storage, name = overview.pdf.storage, overview.pdf.name
    client.force_login(town.boss_ab)  # not the requester, not seeing everything
    assert client.post(url("wagtail_helpdesk_overviews_delete", overview.pk)).status_code == 302
    assert Overview.objects.filter(pk=overview.pk).exists()
    client.force_login(town.boss_a)
    assert client.get(url("wagtail_helpdesk_overviews_delete", overview.pk)).status_code == 405
    response = client.post(url("wagtail_helpdesk_overviews_delete", overview.pk))
    assert response.status_code == 302 and response["Location"] == url()
    assert not Overview.objects.filter(pk=overview.pk).exists()
    assert not storage.exists(name)


def test_retry_a_failed_overview(client, town, django_capture_on_commit_callbacks):
    overview = Overview.objects.create(period_start=date(2025, 2, 1),
                                       period_end=date(2025, 2, 28), requested_by=town.boss_a,
                                       status=OverviewStatus.FAILED, error="Failed.")
    overview.offices.set([town.a])
    client.force_login(town.boss_a)
    assert "Try again" in client.get(url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("wagtail_helpdesk_overviews_retry", overview.pk))
    overview.refresh_from_db()
    assert overview.status == OverviewStatus.DONE
    # A done one is not regenerated by a second click.
    finished = overview.finished_at
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(url("wagtail_helpdesk_overviews_retry", overview.pk))
    assert callbacks == []
    overview.refresh_from_db()
    assert overview.finished_at == finished


def test_subscription_toggle(client, town):
    client.force_login(town.boss_a)
    assert "Send me the monthly overview" in client.get(url()).content.decode()
    client.post(url("wagtail_helpdesk_overviews_subscription"), {"active": "1"})
    subscription = OverviewSubscription.objects.get(user=town.boss_a)
    assert subscription.active and subscription.all_offices
    assert "Stop the monthly e-mail" in client.get(url()).content.decode()
    client.post(url("wagtail_helpdesk_overviews_subscription"), {"active": "0"})
    subscription.refresh_from_db()
    assert not subscription.active


def test_menu_items_shape():
    items = admin_overviews.menu_items()
    assert len(items) == 1 and callable(items[0])
    assert admin_overviews.viewsets() == []
    assert {p.name for p in admin_overviews.urls()} >= {"wagtail_helpdesk_overviews"}
    json.dumps([p.name for p in admin_overviews.urls()])


# --- limits, stuck overviews, bounded refresh (review findings 13 and 14) ------------

CUSTOM = {"period": "custom", "start": "2025-01-10", "end": "2025-02-09"}


def queued(user, offices, **fields):
    overview = Overview.objects.create(period_start=date(2025, 2, 1),
                                       period_end=date(2025, 2, 28), requested_by=user,
                                       **fields)
    overview.offices.set(offices)
    return overview


def form_error(response):
    from django.utils.html import escape

    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1
    assert escape(errors[0]) in response.content.decode()
    return errors[0]


def test_a_new_request_is_refused_while_three_are_pending(client, town):
    for status in (OverviewStatus.QUEUED, OverviewStatus.QUEUED, OverviewStatus.RUNNING):
        queued(town.boss_a, [town.a], status=status, started_at=timezone.now())
    queued(town.boss_b, [town.b])  # someone else's: not counted
    client.force_login(town.boss_a)
    response = client.post(url(), {**CUSTOM, "offices": [town.a.pk]})
    assert response.status_code == 200
    assert "3" in form_error(response)
    html = response.content.decode()
    assert 'value="2025-01-10"' in html and 'value="2025-02-09"' in html  # input kept
    assert Overview.objects.filter(requested_by=town.boss_a).count() == 3
    # One is done: a new request goes through.
    Overview.objects.filter(requested_by=town.boss_a,
                            status=OverviewStatus.RUNNING).update(status=OverviewStatus.DONE)
    assert client.post(url(), {**CUSTOM, "offices": [town.a.pk]}).status_code == 302
    assert Overview.objects.filter(requested_by=town.boss_a).count() == 4


def test_stuck_overviews_do_not_count_as_pending(client, town):
    old = timezone.now() - tasks.STALE - timedelta(minutes=1)
    for _ in range(3):
        stuck = queued(town.boss_a, [town.a])
        Overview.objects.filter(pk=stuck.pk).update(created_at=old)
    assert tasks.pending(town.boss_a) == 0
    client.force_login(town.boss_a)
    assert client.post(url(), {**CUSTOM, "offices": [town.a.pk]}).status_code == 302


def test_requests_are_throttled_per_user(client, town, settings):
    settings.WAGTAIL_HELPDESK_OVERVIEWS_PER_HOUR = 2
    client.force_login(town.boss_a)
    for _ in range(2):
        assert client.post(url(), {**CUSTOM, "offices": [town.a.pk]}).status_code == 302
        Overview.objects.update(status=OverviewStatus.DONE)
    response = client.post(url(), {**CUSTOM, "offices": [town.a.pk]})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    form_error(response)
    assert 'value="2025-01-10"' in response.content.decode()
    assert Overview.objects.count() == 2
    # Another user has their own allowance.
    client.force_login(town.boss_ab)
    assert client.post(url(), {**CUSTOM, "offices": [town.a.pk]}).status_code == 302


def test_a_queued_overview_never_run_can_be_retried(client, town,
                                                    django_capture_on_commit_callbacks):
    overview = queued(town.boss_a, [town.a])
    client.force_login(town.boss_a)
    # Freshly queued: no "Try again", the page polls, a retry does nothing.
    html = client.get(url()).content.decode()
    assert "Try again" not in html and 'data-controller="helpdesk-overviews"' in html
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(url("wagtail_helpdesk_overviews_retry", overview.pk))
    assert callbacks == []
    # Its job never ran within the stale window: offered again, no polling.
    Overview.objects.filter(pk=overview.pk).update(
        created_at=timezone.now() - tasks.STALE - timedelta(minutes=1))
    html = client.get(url()).content.decode()
    assert "Try again" in html and 'data-controller="helpdesk-overviews"' not in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("wagtail_helpdesk_overviews_retry", overview.pk))
    assert response.status_code == 302
    overview.refresh_from_db()
    assert overview.status == OverviewStatus.DONE and overview.pdf


def test_a_retried_overview_is_not_stuck_again_at_once(town, monkeypatch):
    overview = queued(town.boss_a, [town.a], status=OverviewStatus.FAILED)
    Overview.objects.filter(pk=overview.pk).update(
        created_at=timezone.now() - timedelta(days=2))
    monkeypatch.setattr(tasks, "queue", lambda pk: None)  # the job has not run yet
    assert tasks.retry(overview.pk) is True
    overview.refresh_from_db()
    assert overview.status == OverviewStatus.QUEUED and not tasks.is_stuck(overview)
    assert tasks.retry(overview.pk) is False  # no second job while the first may run
    assert tasks.pending(town.boss_a) == 1


def test_an_overview_that_could_not_be_queued_fails_and_can_be_retried(
        client, town, monkeypatch, django_capture_on_commit_callbacks):
    import django_q.tasks
    from django.utils import translation

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(django_q.tasks, "async_task", down)
    with django_capture_on_commit_callbacks(execute=True):
        overview = tasks.request_overview(town.boss_a, date(2025, 2, 1), date(2025, 2, 28),
                                          [town.a])
    overview.refresh_from_db()
    assert overview.status == OverviewStatus.FAILED
    with translation.override(tasks.language_for(overview)):
        assert overview.error == tasks.failure_message()
    client.force_login(town.boss_a)
    assert "Try again" in client.get(url()).content.decode()


def test_the_refresh_is_bounded_and_shares_the_dashboards_controller(client, town):
    queued(town.boss_a, [town.a], status=OverviewStatus.RUNNING, started_at=timezone.now())
    client.force_login(town.boss_a)
    html = client.get(url()).content.decode()
    assert (f'data-helpdesk-overviews-max-seconds-value="{admin_overviews.REFRESH_MAX_SECONDS}"'
            in html)
    assert (f'data-helpdesk-overviews-idle-seconds-value="{admin_overviews.REFRESH_IDLE_SECONDS}"'
            in html)
    assert 'data-helpdesk-overviews-while-selector-value="[data-running]"' in html
    stopped = re.search(r"<p[^>]*data-helpdesk-overviews-target=\"stopped\"[^>]*>", html)[0]
    assert " hidden" in stopped
    # dashboard.js (the shared controller) is loaded before overviews.js.
    assert 0 < html.index("admin/dashboard.js") < html.index("admin/overviews.js")
