"""Small builders for test data. Tickets are made through the services layer."""

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from wagtail.models import Site

from wagtail_helpdesk import services
from wagtail_helpdesk.groups import ADMINISTRATORS, OPERATORS, SUPERVISORS
from wagtail_helpdesk.models import (
    Channel,
    Citizen,
    HelpdeskSettings,
    Kind,
    Office,
    ReportCategory,
    ResolutionType,
    Service,
    ServiceCategory,
)

_seq = itertools.count(1)

# Valid fiscal codes (checked with python-codicefiscale).
FISCAL_CODES = [
    "RSSMRA85T10A562S",
    "BNCLRA90A41H501F",
    "VRDGPP80C12F205H",
    "NREFNC75D50L219Q",
    "GLLLCU88E15D612K",
]


def office(name=None, **kwargs):
    n = next(_seq)
    name = name or f"Ufficio {n}"
    return Office.objects.create(name=name, slug=f"ufficio-{n}", **kwargs)


def user(username=None, *, offices=(), group=OPERATORS, **kwargs):
    username = username or f"user{next(_seq)}"
    u = get_user_model().objects.create_user(
        username=username, password="pw", email=f"{username}@comune.example.it", **kwargs
    )
    if group:
        u.groups.add(Group.objects.get(name=group))
    for o in offices:
        o.members.add(u)
    return u


def operator(*offices, **kwargs):
    return user(offices=offices, group=OPERATORS, **kwargs)


def supervisor(*offices, **kwargs):
    return user(offices=offices, group=SUPERVISORS, **kwargs)


def administrator(**kwargs):
    return user(group=ADMINISTRATORS, **kwargs)


def service_category():
    """A preloaded category (or one made here: transactional tests flush the
    rows that data migrations created)."""
    return ServiceCategory.objects.first() or ServiceCategory.objects.create(
        name="Relazioni con il pubblico", slug="relazioni-con-il-pubblico")


def service(office_=None, **kwargs):
    n = next(_seq)
    return Service.objects.create(
        category=service_category(),
        name=kwargs.pop("name", f"Servizio {n}"),
        slug=f"servizio-{n}",
        office=office_ or office(),
        **kwargs,
    )


def report_category(office_=None, **kwargs):
    n = next(_seq)
    return ReportCategory.objects.create(
        name=kwargs.pop("name", f"Disservizio {n}"), slug=f"disservizio-{n}",
        office=office_ or office(), **kwargs,
    )


def citizen(**kwargs):
    n = next(_seq)
    kwargs.setdefault("given_name", "Maria")
    kwargs.setdefault("family_name", f"Rossi{n}")
    kwargs.setdefault("email", f"cittadino{n}@example.org")
    return Citizen.objects.create(**kwargs)


def resolution_type(slug="risolta"):
    names = {"risolta": "Risolta", "duplicata": "Duplicata", "respinta": "Respinta",
             "non-di-competenza": "Non di competenza"}
    return ResolutionType.objects.get_or_create(
        slug=slug, defaults={"name": names.get(slug, slug), "counts_as_solved": slug == "risolta"},
    )[0]


def settings(**kwargs):
    site = Site.objects.get(is_default_site=True)
    obj = HelpdeskSettings.for_site(site)
    for k, v in kwargs.items():
        setattr(obj, k, v)
    obj.save()
    return obj


def request_ticket(actor=services.SYSTEM, *, service_=None, citizen_=None, **kwargs):
    service_ = service_ or service()
    kwargs.setdefault("description", "Non riesco a completare la domanda online.")
    kwargs.setdefault("channel", Channel.WEB)
    return services.create_ticket(
        actor, kind=Kind.REQUEST, service=service_, citizen=citizen_ or citizen(), **kwargs
    )


def report_ticket(actor=services.SYSTEM, *, category=None, **kwargs):
    kwargs.setdefault("subject", "Buca in via Roma")
    kwargs.setdefault("description", "Buca profonda davanti al civico 12.")
    kwargs.setdefault("latitude", "45.464200")
    kwargs.setdefault("longitude", "9.190000")
    kwargs.setdefault("channel", Channel.WEB)
    return services.create_ticket(
        actor, kind=Kind.REPORT, report_category=category or report_category(), **kwargs
    )
