"""The Helpdesk menu's figure at scale (issue 20): it counts only open
tickets, through the partial indexes ``helpdesk_t_pending`` and
``helpdesk_t_unread``, in two queries (the user's offices and permissions,
then the figures), and equals the figure counted ticket by ticket for every
kind of user. Runs on SQLite and PostgreSQL."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_helpdesk import services
from wagtail_helpdesk.admin.attention import attention_count
from wagtail_helpdesk.models import Ticket
from wagtail_helpdesk.permissions import office_ids_for, prime, ticket_policy
from wagtail_helpdesk.tickets.queries import visible_tickets
from wagtail_helpdesk.workflow import OPEN_STATUSES, Status


def by_hand(user):
    """The figure's definition, ticket by ticket in Python."""
    total = 0
    for t in visible_tickets(user, "change"):
        if t.status == Status.NEW and t.assignee_id is None:
            total += 1
        if t.assignee_id == user.pk and t.status in OPEN_STATUSES:
            total += t.unread_count
    return total


@pytest.fixture
def desk(factories):
    a, b, c = (factories.office(name) for name in ("Anagrafe", "Tributi", "Urbanistica"))
    op = factories.operator(a, b)
    other = factories.operator(c)
    solved = factories.resolution_type()
    for i, office in enumerate([a, b, c] * 5):
        service = factories.service(office)
        person = factories.citizen()
        ticket = factories.request_ticket(service_=service, citizen_=person)
        who = op if office != c else other
        if i % 5 == 1:
            ticket = services.take_charge(ticket, who)
        elif i % 5 == 2:
            ticket = services.take_charge(ticket, who)
            for text in ("Allego", "Ancora"):
                services.add_citizen_message(ticket, services.CitizenActor(person), text)
        elif i % 5 == 3:
            ticket = services.resolve(services.take_charge(ticket, who), who, solved, "Fatto")
            # unread messages on a resolved ticket are not counted
            Ticket.objects.filter(pk=ticket.pk).update(unread_count=4)
        elif i % 5 == 4:
            ticket = services.mark_waiting(services.take_charge(ticket, who), who,
                                           message="Serve il documento")
            Ticket.objects.filter(pk=ticket.pk).update(unread_count=1)
    # A draft of the operator's own, without an office: never pending.
    factories.request_ticket(op, service_=factories.service(a), draft=True)
    return {"op": op, "other": other, "supervisor": factories.supervisor(a),
            "admin": factories.administrator()}


def test_the_figure_is_the_count_by_hand(desk):
    figures = {}
    for name, user in desk.items():
        cache.clear()
        figures[name] = attention_count(user)
        assert figures[name] == by_hand(user), name
    # Not all the same: the scopes differ, and unread messages count.
    assert figures["op"] != figures["other"]
    assert figures["admin"] == Ticket.objects.filter(status=Status.NEW,
                                                     assignee__isnull=True).count()
    assert by_hand(desk["op"]) > Ticket.objects.filter(
        status=Status.NEW, assignee__isnull=True, office__in=desk["op"].helpdesk_memberships
        .values("office_id")).count()


def test_the_figure_follows_the_services(desk):
    op = desk["op"]
    cache.clear()
    before = attention_count(op)
    pending = visible_tickets(op, "change").filter(status=Status.NEW,
                                                   assignee__isnull=True).first()
    services.take_charge(pending, op)
    cache.clear()
    assert attention_count(op) == before - 1 == by_hand(op)


def fresh(user):
    """The user as a request has it: nothing read about them yet."""
    return get_user_model().objects.get(pk=user.pk)


def test_two_queries_one_statement_over_open_tickets(desk):
    cache.clear()
    user = fresh(desk["op"])
    with CaptureQueriesContext(connection) as ctx:
        attention_count(user)
    # The user's offices with the two permissions the figure depends on, then
    # both figures in one statement.
    assert len(ctx.captured_queries) == 2, [q["sql"] for q in ctx.captured_queries]
    table = Ticket._meta.db_table
    counts = [q["sql"] for q in ctx.captured_queries if table in q["sql"]]
    assert len(counts) == 1
    # each part only looks at open tickets
    assert "'new'" in counts[0] and "IS NULL" in counts[0]
    assert "unread_count" in counts[0] and "'waiting'" in counts[0]
    # Permissions and offices already read (the rest of an admin page): one.
    user = fresh(desk["op"])
    user.has_perm("wagtail_helpdesk.change_ticket")
    office_ids_for(user)
    cache.clear()
    expected = by_hand(fresh(desk["op"]))
    with CaptureQueriesContext(connection) as ctx:
        assert attention_count(user) == expected
    assert len(ctx.captured_queries) == 1


def test_a_member_without_the_change_permission_gets_nothing(desk, factories):
    office = desk["op"].helpdesk_memberships.first().office
    member = factories.user(offices=[office], group=None)
    viewer = factories.user(offices=[office], group=None)
    viewer.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    assert Ticket.objects.filter(office=office, status=Status.NEW,
                                 assignee__isnull=True).exists()
    for user in (member, viewer):
        cache.clear()
        assert attention_count(fresh(user)) == 0


def test_prime_answers_as_has_perm_does(desk, factories):
    office = desk["op"].helpdesk_memberships.first().office
    direct = factories.user(offices=[office], group=None)
    direct.user_permissions.add(Permission.objects.get(codename="change_ticket"))
    people = [*desk.values(), direct, factories.user(offices=[office], group=None),
              factories.user(group=None, is_superuser=True),
              factories.operator(office, is_active=False)]
    policy = ticket_policy()
    for person in people:
        primed = fresh(person)
        prime(primed, ("change", "view_all"))
        with CaptureQueriesContext(connection) as ctx:
            prime(primed, ("change", "view_all"))  # known already: nothing read again
            answers = [policy.user_has_permission(primed, a) for a in ("change", "view_all")]
            offices = office_ids_for(primed)
        reference = fresh(person)
        assert answers == [reference.has_perm("wagtail_helpdesk.change_ticket") and
                           reference.is_active,
                           reference.has_perm("wagtail_helpdesk.view_all_tickets") and
                           reference.is_active], person
        assert offices == office_ids_for(reference)
        if person.is_active and not person.is_superuser:
            assert not ctx.captured_queries, person  # prime read them
    assert policy.user_has_permission(fresh(direct), "change")


class GrantingBackend:
    """Another backend answering permissions: it gives everyone ``change``."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user, perm, obj=None):
        return user.is_active and perm == "wagtail_helpdesk.change_ticket"


def test_other_backends_are_asked_through_has_perm(desk, factories, settings):
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.GrantingBackend",
                                        "django.contrib.auth.backends.ModelBackend"]
    office = desk["op"].helpdesk_memberships.first().office
    granted = factories.user(offices=[office], group=None)
    user = fresh(granted)
    with CaptureQueriesContext(connection) as ctx:
        prime(user, ("change", "view_all"))
    assert not ctx.captured_queries  # nothing read its own way
    cache.clear()
    assert attention_count(user) == by_hand(fresh(granted)) > 0


def test_the_partial_indexes_serve_the_counts(desk):
    """On PostgreSQL the figures' statement can be served by the partial
    indexes, the offices as an index condition. A table of a few rows gives
    the planner no reason to prefer them: it is told not to scan the table,
    and the other indexes are dropped inside the test's transaction (rolled
    back after it). Elsewhere the indexes exist."""
    names = {"helpdesk_t_pending", "helpdesk_t_unread", "helpdesk_t_open_work"}
    table = Ticket._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    assert names <= set(constraints)
    if connection.vendor != "postgresql":
        return
    cache.clear()
    user = fresh(desk["op"])
    with CaptureQueriesContext(connection) as ctx:
        attention_count(user)
    sql = next(q["sql"] for q in ctx.captured_queries if table in q["sql"])
    others = [name for name, c in constraints.items()
              if c["index"] and not c["primary_key"] and not c["unique"]
              and name not in names and name != "helpdesk_t_no_office"]
    with connection.cursor() as cursor:
        for name in others:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "helpdesk_t_pending" in plan and "helpdesk_t_unread" in plan, plan
    pending = plan[plan.index("helpdesk_t_pending"):].splitlines()
    assert "Index Cond: (office_id = ANY" in "\n".join(pending[:3]), plan


def test_forgetting_the_offices_forgets_prime_s_answers_too(desk, factories):
    """After a change of memberships or permissions the services call
    ``forget_offices``: the next question reads the database again."""
    from django.contrib.auth.models import Permission

    from wagtail_helpdesk.permissions import forget_offices

    user = fresh(desk["op"])
    prime(user, ["change"])
    assert ticket_policy().user_has_permission(user, "change") is True
    user.user_permissions.clear()
    user.groups.clear()
    forget_offices(user)
    assert not hasattr(user, "_helpdesk_ticket_answers")
    assert ticket_policy().user_has_permission(user, "change") is False
    assert Permission.objects.filter(user=user).count() == 0


def test_a_member_added_through_the_office_bumps_the_menus(factories,
                                                         django_capture_on_commit_callbacks):
    """Adding members through the office (a form's save: no post_save per
    membership) still renews the cached menus and choices."""
    from wagtail_helpdesk.tickets import filter_choices

    office = factories.office(name="Anagrafe")
    newcomer = factories.operator(factories.office(name="Tributi"))
    before = filter_choices._version()
    with django_capture_on_commit_callbacks(execute=True):
        office.members.add(newcomer)
    assert filter_choices._version() != before
