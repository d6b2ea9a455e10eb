"""The cached menus of the ticket list's filters (issue 20): refreshed when
what they show changes — permissions included —, once the change is
committed, and not by saves that touch nothing they show (logins,
auto-assignment)."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.utils import timezone

from wagtail_helpdesk.models import OfficeMembership
from wagtail_helpdesk.tickets import filter_choices

URL = "/admin/helpdesk/tickets/"


@pytest.fixture
def two_offices(factories):
    mine, theirs = factories.office(name="Ufficio Mio"), factories.office(name="Ufficio Loro")
    me = factories.operator(mine)
    factories.request_ticket(service_=factories.service(mine))
    cache.clear()
    return me, mine, theirs


def menu(client):
    response = client.get(URL, {"queue": "all"})
    assert response.status_code == 200
    return response.content.decode()


def view_all():
    return Permission.objects.get(codename="view_all_tickets",
                                  content_type__app_label="wagtail_helpdesk")


def test_revoking_view_all_hides_the_other_offices_at_once(client, two_offices,
                                                           django_capture_on_commit_callbacks):
    me, _mine, _theirs = two_offices
    client.force_login(me)
    assert "Ufficio Loro" not in menu(client)
    with django_capture_on_commit_callbacks(execute=True):
        me.user_permissions.add(view_all())
    assert "Ufficio Loro" in menu(client)
    with django_capture_on_commit_callbacks(execute=True):
        me.user_permissions.remove(view_all())
    assert "Ufficio Loro" not in menu(client)


def test_a_group_losing_view_all_refreshes_its_members_menus(client, two_offices, factories,
                                                             django_capture_on_commit_callbacks):
    me, _mine, _theirs = two_offices
    group = me.groups.first()
    client.force_login(me)
    with django_capture_on_commit_callbacks(execute=True):
        group.permissions.add(view_all())
    assert "Ufficio Loro" in menu(client)
    with django_capture_on_commit_callbacks(execute=True):
        group.permissions.remove(view_all())
    assert "Ufficio Loro" not in menu(client)


def test_leaving_a_group_refreshes_the_menus(client, two_offices, factories,
                                             django_capture_on_commit_callbacks):
    me, _mine, _theirs = two_offices
    admins = factories.administrator().groups.first()  # a group with view_all
    assert admins.permissions.filter(codename="view_all_tickets").exists()
    with django_capture_on_commit_callbacks(execute=True):
        me.groups.add(admins)
    client.force_login(me)
    assert "Ufficio Loro" in menu(client)
    with django_capture_on_commit_callbacks(execute=True):
        me.groups.remove(admins)
    assert "Ufficio Loro" not in menu(client)


def test_the_version_moves_only_when_the_change_is_committed(two_offices, factories,
                                                              django_capture_on_commit_callbacks):
    _me, mine, _theirs = two_offices
    before = filter_choices._version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        factories.service(mine, name="Nuovo")
        assert filter_choices._version() == before  # not yet committed
    assert callbacks
    for callback in callbacks:
        callback()
    assert filter_choices._version() > before


def test_logins_and_auto_assignment_keep_the_menus(two_offices,
                                                   django_capture_on_commit_callbacks):
    me, mine, _theirs = two_offices
    before = filter_choices._version()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        me.last_login = timezone.now()
        me.save(update_fields=["last_login"])
        membership = OfficeMembership.objects.get(user=me, office=mine)
        membership.last_auto_assigned_at = timezone.now()
        membership.save(update_fields=["last_auto_assigned_at"])
    assert callbacks == []
    assert filter_choices._version() == before
    # A change to what the menus show still refreshes them.
    with django_capture_on_commit_callbacks(execute=True):
        me.first_name = "Renata"
        me.save(update_fields=["first_name"])
    assert filter_choices._version() > before


def test_a_login_through_the_site_keeps_the_menus(client, two_offices,
                                                  django_capture_on_commit_callbacks):
    me, _mine, _theirs = two_offices
    before = filter_choices._version()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.login(username=me.username, password="pw")
    assert filter_choices._version() == before
