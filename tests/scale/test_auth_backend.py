"""The helpdesk's ``ModelBackend``: the signed-in user with Wagtail's profile
in one query, their own and their groups' permissions in one more — the
same answers as Django's backend, nothing kept between requests."""

import pytest
from django.contrib.auth import backends as django_backends
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.users.models import UserProfile

from wagtail_helpdesk.auth.backends import ModelBackend

BACKEND = "wagtail_helpdesk.auth.backends.ModelBackend"


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def answers(backend, user):
    return (backend.get_user_permissions(user), backend.get_group_permissions(user),
            backend.get_all_permissions(user))


@pytest.fixture
def people(factories):
    office = factories.office()
    operator = factories.operator(office)
    direct = Permission.objects.get(codename="view_group")
    operator.user_permissions.add(direct)
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    nobody = get_user_model().objects.create_user("nobody")
    return operator, superuser, nobody


def test_the_same_permissions_as_djangos_backend_in_one_query(people):
    for user in people:
        user = fresh(user)
        with CaptureQueriesContext(connection) as ctx:
            ours = answers(ModelBackend(), user)
        assert ours == answers(django_backends.ModelBackend(), fresh(user))
        assert len(ctx.captured_queries) == 1
    operator = people[0]
    own, groups, every = answers(ModelBackend(), fresh(operator))
    assert own == {"auth.view_group"} and groups and every == own | groups


def test_inactive_users_and_object_permissions_have_none(people):
    operator = fresh(people[0])
    operator.is_active = False
    with CaptureQueriesContext(connection) as ctx:
        assert answers(ModelBackend(), operator) == (set(), set(), set())
    assert not ctx.captured_queries
    assert ModelBackend().get_all_permissions(fresh(people[0]), obj=object()) == set()


def test_a_changed_permission_counts_on_the_next_request(people):
    operator = people[0]
    backend = ModelBackend()
    assert not backend.has_perm(fresh(operator), "auth.add_group")
    group = Group.objects.create(name="Group admins")
    group.permissions.add(Permission.objects.get(codename="add_group"))
    operator.groups.add(group)
    assert backend.has_perm(fresh(operator), "auth.add_group")
    operator.user_permissions.clear()
    assert not backend.has_perm(fresh(operator), "auth.view_group")


def test_the_user_comes_with_the_wagtail_profile(people):
    operator = people[0]
    backend = ModelBackend()
    with CaptureQueriesContext(connection) as ctx:
        user = backend.get_user(operator.pk)
        assert not hasattr(user, "wagtail_userprofile")  # none yet: no second query
    assert len(ctx.captured_queries) == 1
    UserProfile.objects.create(user=operator, preferred_language="it")
    with CaptureQueriesContext(connection) as ctx:
        user = backend.get_user(operator.pk)
        assert user.wagtail_userprofile.preferred_language == "it"
    assert len(ctx.captured_queries) == 1
    assert backend.get_user(10**9) is None
    operator.is_active = False
    operator.save()
    assert backend.get_user(operator.pk) is None


@override_settings(AUTHENTICATION_BACKENDS=[BACKEND])
def test_an_admin_page_makes_two_queries_fewer(client, people):
    """The user with the profile, the permissions in one query: two fewer
    (the page's other queries are the same with either backend)."""
    operator = people[0]
    UserProfile.objects.create(user=operator)
    url = reverse("wagtailadmin_home")

    def reads():
        client.force_login(operator, backend=BACKEND)
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    ours = reads()
    with override_settings(AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.ModelBackend"]):
        client.logout()
        client.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        theirs = [q["sql"] for q in ctx.captured_queries]
    assert len(ours) == len(theirs) - 2
    assert not [q for q in ours if q.startswith('SELECT "wagtailusers_userprofile"')]
