"""Builds the demo data of ``manage.py helpdesk_demo``.

Idempotent: offices, services, report categories, accounts and citizens are
matched by slug, username or fiscal code (``get_or_create``), and tickets are
created only when the demo's tickets are not there yet. Every ticket and every
change to it goes through :mod:`wagtail_helpdesk.services` (see :mod:`.story`
for the one documented exception: dating the history afterwards).

Everything random comes from ``random.Random`` instances seeded from
:data:`SEED`, so every run builds the same data.
"""

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from codicefiscale import codicefiscale
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from wagtail.models import Site
from wagtail.users.models import UserProfile

from .. import groups
from ..models import (
    Citizen,
    HelpdeskSettings,
    Kind,
    Notification,
    NotificationStatus,
    Office,
    OfficeMembership,
    Open311Client,
    QuickReply,
    ReportCategory,
    ResolutionType,
    Service,
    ServiceCategory,
    Ticket,
)
from ..models.open311 import hash_key
from ..permissions import ticket_policy
from ..workflow import Status
from . import assist, chats, data, labels, mail, opendata, overviews, texts
from .plans import plan_tickets
from .replies import default_office_replies
from .story import Story

SEED = 20250301
DEFAULT_TICKETS = 300
CITIZENS = 120
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented password of the demo accounts
#: The demo's Open311 client and its documented API key (demo sites only).
DEMO_OPEN311_CLIENT = "Demo Open311"
DEMO_OPEN311_KEY = "o311_demo"
SENDER_NAME = "Comune di Esempio"
SENDER_EMAIL = "assistenza@comune.example.it"
#: The fictional town: a box of ± SPREAD degrees around CENTRE.
CENTRE = (45.07, 7.68)
SPREAD = 0.03
GROUP_NAMES = {
    "operators": groups.OPERATORS,
    "supervisors": groups.SUPERVISORS,
    "administrators": groups.ADMINISTRATORS,
}


@dataclass
class Result:
    """What a run found and did, for the command's report."""

    created: Counter = field(default_factory=Counter)
    tickets_created: int = 0
    demo_tickets: int = 0
    by_status: dict = field(default_factory=dict)
    by_kind: dict = field(default_factory=dict)
    logins: list = field(default_factory=list)  # (username, description, password is "demo")
    open311_key: str = ""  # the demo client's key, "" when it no longer has it


@dataclass
class World:
    """The demo's catalogue, staff and citizens, as the stories need them."""

    offices: dict  # slug → Office
    office_slug: dict  # office id → slug
    services: list  # (Service, sample texts), in data.SERVICES order
    categories: list  # (ReportCategory, sample texts), in data.REPORT_CATEGORIES order
    resolutions: dict  # slug → ResolutionType
    sla: dict  # ("service" | "category", id) → SLA days
    users: dict  # id → User
    members: dict  # office id → [User]
    supervisors: dict  # office id → [User]
    admin: object
    citizens: list
    streets: list  # (name, latitude, longitude)


def _ascii(text):
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def citizen_specs(seed=SEED, count=CITIZENS):
    """The demo citizens as dicts, with valid fiscal codes. Pure and repeatable."""
    rng = random.Random(f"{seed}-citizens")
    specs, seen = [], set()
    while len(specs) < count:
        gender = rng.choice("MF")
        given = rng.choice(data.MALE_NAMES if gender == "M" else data.FEMALE_NAMES)
        family = rng.choice(data.SURNAMES)
        born = date(1938, 1, 1) + timedelta(days=rng.randrange(68 * 365))
        code = codicefiscale.encode(
            lastname=family, firstname=given, gender=gender,
            birthdate=born.strftime("%d/%m/%Y"), birthplace=data.BIRTHPLACE,
        )
        if code in seen:
            continue
        seen.add(code)
        has_email = rng.random() < 0.85
        has_phone = not has_email or rng.random() < 0.4
        email = f"{_ascii(given)}.{_ascii(family)}{born:%y}@{data.CITIZEN_DOMAIN}"
        phone = f"+39 3{rng.randint(20, 49)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        specs.append({
            "given_name": given, "family_name": family, "fiscal_code": code,
            "email": email if has_email else "", "phone": phone if has_phone else "",
        })
    return specs


def streets(seed=SEED):
    """Every street of the fictional town with a point on it."""
    rng = random.Random(f"{seed}-streets")
    margin = SPREAD - 0.005  # room for the jitter of each report around its street
    return [
        (name, CENTRE[0] + rng.uniform(-margin, margin), CENTRE[1] + rng.uniform(-margin, margin))
        for name in data.STREETS
    ]


def ensure_catalogue(created):
    offices = {}
    for slug, name, email, phone in data.OFFICES:
        offices[slug], new = Office.objects.get_or_create(
            slug=slug, defaults={"name": name, "email": email, "phone": phone}
        )
        created["offices"] += new
    services = []
    for slug, category_slug, name, office, sla, samples in data.SERVICES:
        # The categories are preloaded by migration 0002; recreate one only if deleted.
        category, new = ServiceCategory.objects.get_or_create(
            slug=category_slug, defaults={"name": category_slug.replace("-", " ").capitalize()}
        )
        created["service categories"] += new
        service, new = Service.objects.get_or_create(
            slug=slug, defaults={"category": category, "name": name, "office": offices[office],
                                 "sla_days": sla},
        )
        created["services"] += new
        services.append((service, samples))
    categories = []
    for slug, name, office, sla, order, samples in data.REPORT_CATEGORIES:
        category, new = ReportCategory.objects.get_or_create(
            slug=slug, defaults={"name": name, "office": offices[office], "sla_days": sla,
                                 "sort_order": order},
        )
        created["report categories"] += new
        categories.append((category, samples))
    resolutions = {}
    for key in texts.RESOLUTIONS:
        slug = key.split("/")[0]
        resolutions[slug], new = ResolutionType.objects.get_or_create(
            slug=slug, defaults={"name": slug.replace("-", " ").capitalize(),
                                 "counts_as_solved": slug == "risolta"},
        )
        created["resolution types"] += new
    return offices, services, categories, resolutions


def ensure_accounts(offices, created):
    """The staff of data.STAFF; existing accounts are completed, never overwritten."""
    groups.ensure_default_groups()
    User = get_user_model()
    logins = []
    for username, first, last, group_key, office_slugs, description in data.STAFF:
        user, new = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last,
                      "email": f"{username}@{data.EMAIL_DOMAIN}"},
        )
        if new:
            if username in data.LOGIN_ACCOUNTS:
                user.set_password(DEMO_PASSWORD)
            else:
                user.set_unusable_password()
            if group_key == "administrators":
                user.is_superuser = user.is_staff = True
            user.save()
            # The demo is an Italian municipality: its admin speaks Italian,
            # whatever language the visitor's browser asks for.
            profile = UserProfile.get_for_user(user)
            profile.preferred_language = "it"
            profile.save(update_fields=["preferred_language"])
        created["accounts"] += new
        user.groups.add(Group.objects.get(name=GROUP_NAMES[group_key]))
        for slug in office_slugs:
            OfficeMembership.objects.get_or_create(office=offices[slug], user=user)
        if username in data.LOGIN_ACCOUNTS:
            logins.append((username, description, user.check_password(DEMO_PASSWORD)))
    return logins


def ensure_quick_replies(offices, created):
    """Every demo office gets the default office-wide quick replies (by shortcut)."""
    for office in offices.values():
        for reply in default_office_replies():
            _obj, new = QuickReply.objects.get_or_create(
                office=office, shortcut=reply["shortcut"],
                defaults={k: v for k, v in reply.items() if k != "shortcut"},
            )
            created["quick replies"] += new


def ensure_settings(created):
    """Sender name and address of the default site's Helpdesk settings, if empty."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return
    settings = HelpdeskSettings.for_site(site)
    changed = []
    if not settings.sender_name:
        settings.sender_name = SENDER_NAME
        changed.append("sender_name")
    if not settings.sender_email:
        settings.sender_email = SENDER_EMAIL
        changed.append("sender_email")
    if changed:
        settings.save(update_fields=changed)
        created["site settings"] += 1


def ensure_open311_client(created):
    """The demo's Open311 client, with the documented key; returns the key,
    or "" when an administrator replaced it or revoked the client."""
    client = Open311Client.objects.filter(name=DEMO_OPEN311_CLIENT).first()
    if client is None:
        client = Open311Client(name=DEMO_OPEN311_CLIENT, contact=SENDER_EMAIL)
        client.set_key(DEMO_OPEN311_KEY)
        client.save()
        created["Open311 clients"] += 1
    usable = client.active and client.key_hash == hash_key(DEMO_OPEN311_KEY)
    return DEMO_OPEN311_KEY if usable else ""


def ensure_citizens(specs, created):
    existing = {
        c.fiscal_code: c
        for c in Citizen.objects.filter(fiscal_code__in=[s["fiscal_code"] for s in specs])
    }
    citizens = []
    for spec in specs:
        citizen = existing.get(spec["fiscal_code"])
        if citizen is None:
            citizen = Citizen.objects.create(**spec)
            created["citizens"] += 1
        citizens.append(citizen)
    return citizens


def demo_tickets(specs):
    """The demo's tickets already in the database (they belong to demo citizens)."""
    return Ticket.objects.filter(citizen__fiscal_code__in=[s["fiscal_code"] for s in specs])


def _world(offices, services, categories, resolutions, citizens):
    User = get_user_model()
    usernames = [row[0] for row in data.STAFF]
    # Fresh objects: their permission and office caches are built once and reused.
    users = {u.pk: u for u in User.objects.filter(username__in=usernames, is_active=True)}
    members, supervisors = {}, {}
    memberships = OfficeMembership.objects.filter(user__in=list(users), office__in=offices.values())
    for office_id, user_id in memberships.order_by("pk").values_list("office_id", "user_id"):
        members.setdefault(office_id, []).append(users[user_id])
    for office_id, people in members.items():
        bosses = [u for u in people if u.groups.filter(name=groups.SUPERVISORS).exists()]
        supervisors[office_id] = bosses
    # Somebody who works on every office's tickets (the demo "admin", normally).
    admin = next((u for u in users.values() if ticket_policy().sees_all_offices(u)), None)
    sla = {("service", s.pk): s.sla_days for s, _texts in services}
    sla.update({("category", c.pk): c.sla_days for c, _texts in categories})
    return World(
        offices=offices, office_slug={o.pk: slug for slug, o in offices.items()},
        services=services, categories=categories, resolutions=resolutions, sla=sla,
        users=users, members=members, supervisors=supervisors, admin=admin,
        citizens=citizens, streets=streets(),
    )


def _summary(result, specs):
    qs = Ticket.objects.all()
    result.by_status = {
        row["status"]: row["n"] for row in qs.values("status").annotate(n=Count("pk"))
    }
    result.by_status = {s: result.by_status.get(s, 0) for s in Status.values}
    result.by_kind = {
        k: qs.filter(kind=k).count() for k in Kind.values
    }
    result.demo_tickets = demo_tickets(specs).count()


def retire_historic_notifications(tickets, now):
    """The demo's history is dated weeks back: its notifications belong to that
    past and must not reach anyone now. Only the last day's stay queued, so the
    demo's worker has something real to deliver."""
    return Notification.objects.filter(
        ticket__in=tickets, status=NotificationStatus.PENDING,
        created_at__lt=now - timedelta(days=1),
    ).update(status=NotificationStatus.SKIPPED,
             last_error="Demo data: historic notification, not sent.")


def build(tickets=DEFAULT_TICKETS, *, seed=SEED, now=None, progress=None):
    """Create what is missing of the demo data; return a :class:`Result`.

    ``progress(step, done=0, total=0)``, when given, is called as each step
    starts ("catalogue", "citizens", "tickets") and after each ticket.

    One transaction: a run either loads the whole demo or nothing (and on
    SQLite a single transaction is also by far the fastest way to write it).
    """
    now = now or timezone.now()
    progress = progress or (lambda step, done=0, total=0: None)
    result = Result()
    specs = citizen_specs(seed)
    with transaction.atomic():
        progress("catalogue")
        offices, services, categories, resolutions = ensure_catalogue(result.created)
        result.logins = ensure_accounts(offices, result.created)
        ensure_settings(result.created)
        ensure_quick_replies(offices, result.created)
        result.created["mailboxes"] += mail.create_mailboxes(offices)
        result.open311_key = ensure_open311_client(result.created)
        already = demo_tickets(specs).exists()
        progress("citizens")
        citizens = ensure_citizens(specs, result.created)
        if not already and tickets > 0:
            world = _world(offices, services, categories, resolutions, citizens)
            for plan in plan_tickets(seed, tickets, now, specs):
                Story(world, plan, now).play()
                result.tickets_created += 1
                progress("tickets", result.tickets_created, tickets)
            result.created["AI assist examples"] += assist.build(world, now)
            retire_historic_notifications(demo_tickets(specs), now)
            result.created["live chats"] += chats.build(world)
            result.created["labels"] += labels.build(world, now)
            result.created["open data"] += opendata.build(world, now)
            result.created["overviews"] += overviews.build(world, now)
    _summary(result, specs)
    return result
