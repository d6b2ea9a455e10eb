"""The ticket permission policy and the default groups."""

import pytest
from django.contrib.auth.models import Group
from wagtail.permissions import policy_registry

from wagtail_helpdesk.groups import ADMINISTRATORS, GROUP_PERMISSIONS, OPERATORS, SUPERVISORS
from wagtail_helpdesk.models import Ticket
from wagtail_helpdesk.permissions import TicketPermissionPolicy, forget_offices


def codenames(group_name):
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


@pytest.mark.django_db
def test_groups_exist_after_migrate_with_their_permissions():
    operators, supervisors, admins = (codenames(g) for g in (OPERATORS, SUPERVISORS, ADMINISTRATORS))
    assert {"access_admin", "add_ticket", "change_ticket", "view_ticket"} <= operators
    assert not {"view_all_tickets", "erase_personal_data", "view_helpdesk_dashboard"} & operators
    assert "view_helpdesk_dashboard" in supervisors
    assert not {"view_all_tickets", "erase_personal_data"} & supervisors
    assert {"view_all_tickets", "erase_personal_data", "add_office", "delete_service",
            "change_helpdesksettings"} <= admins
    # Every permission the groups should have was found (none silently missing).
    for name, perms in GROUP_PERMISSIONS.items():
        assert {codename for _app, codename in perms} == codenames(name)


@pytest.mark.django_db
def test_ensure_default_groups_is_idempotent_and_keeps_manual_additions():
    from django.contrib.auth.models import Permission

    from wagtail_helpdesk.groups import ensure_default_groups

    extra = Permission.objects.get(codename="delete_ticket")
    Group.objects.get(name=OPERATORS).permissions.add(extra)
    ensure_default_groups()
    ensure_default_groups()
    assert Group.objects.filter(name=OPERATORS).count() == 1
    assert "delete_ticket" in codenames(OPERATORS)


@pytest.mark.django_db
def test_policy_is_registered_with_wagtail():
    assert isinstance(policy_registry.get_by_type(Ticket), TicketPermissionPolicy)


@pytest.fixture
def world(factories):
    a, b = factories.office(), factories.office()
    people = {
        "op_a": factories.operator(a), "op_b": factories.operator(b), "sup_a": factories.supervisor(a),
        "admin": factories.administrator(),
        "superuser": factories.user(group=None, is_superuser=True),
        "no_group": factories.user(offices=[a], group=None),
        "inactive": factories.operator(a, is_active=False),
    }
    tickets = {"a": factories.request_ticket(service_=factories.service(a)),
                   "b": factories.request_ticket(service_=factories.service(b))}
    return people, tickets


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("op_a", {"a"}), ("op_b", {"b"}), ("sup_a", {"a"}), ("admin", {"a", "b"}),
        ("superuser", {"a", "b"}), ("no_group", set()), ("inactive", set()),
    ],
)
def test_who_sees_which_ticket(world, who, sees):
    people, tickets = world
    policy = policy_registry.get_by_type(Ticket)
    user = people[who]
    visible = policy.instances_user_has_any_permission_for(user, ["view"])
    assert {k for k, t in tickets.items() if t in visible} == sees
    for key, ticket in tickets.items():
        assert policy.user_has_permission_for_instance(user, "change", ticket) == (key in sees)


def test_listing_is_one_query_whatever_the_number_of_offices(world, factories,
                                                             django_assert_num_queries):
    people, _tickets = world
    for _ in range(5):
        factories.office().members.add(people["op_a"])
    policy = policy_registry.get_by_type(Ticket)
    forget_offices(people["op_a"])
    qs = policy.instances_user_has_any_permission_for(people["op_a"], ["view"])
    # permission checks (cached per user after the first) + the listing itself
    list(qs)
    with django_assert_num_queries(1):
        list(policy.instances_user_has_any_permission_for(people["op_a"], ["view"]))


def test_custom_actions(world):
    people, _tickets = world
    policy = policy_registry.get_by_type(Ticket)
    assert policy.user_has_permission(people["sup_a"], "dashboard")
    assert not policy.user_has_permission(people["op_a"], "dashboard")
    assert policy.user_has_permission(people["admin"], "erase")
    assert not policy.user_has_permission(people["sup_a"], "erase")
    assert policy.sees_all_offices(people["admin"]) and not policy.sees_all_offices(people["sup_a"])


def test_users_who_can_work_on_a_ticket(world):
    people, tickets = world
    policy = policy_registry.get_by_type(Ticket)
    users = set(policy.users_with_any_permission_for_instance(["change"], tickets["a"]))
    assert {people["op_a"], people["sup_a"], people["admin"], people["superuser"]} <= users
    assert people["op_b"] not in users and people["no_group"] not in users
    assert people["inactive"] not in users


@pytest.mark.django_db
def test_groups_are_rebuilt_after_a_flush_like_post_migrate():
    """After ``flush`` only post_migrate recreates permissions, app by app: the
    groups must still end up with Wagtail's access_admin."""
    from django.apps import apps
    from django.contrib.auth.models import Permission

    from wagtail_helpdesk.groups import ensure_default_groups, last_signalled_app

    Permission.objects.filter(codename="access_admin").delete()
    Group.objects.filter(name__startswith="Helpdesk").delete()
    ensure_default_groups(app_config=apps.get_app_config("wagtail_helpdesk"))
    assert not Group.objects.filter(name__startswith="Helpdesk").exists()  # not yet: not last
    ensure_default_groups(app_config=last_signalled_app())
    for name in (OPERATORS, SUPERVISORS, ADMINISTRATORS):
        assert "access_admin" in codenames(name)
