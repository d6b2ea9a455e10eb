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
        u.groups.add(default_group(group))
    for o in offices:
        o.members.add(u)
    return u


def default_group(name):
    """One of the three default groups; rebuilt (with its permissions) when a
    transactional test's flush removed it."""
    from wagtail_helpdesk.groups import ensure_default_groups, last_signalled_app

    if not Group.objects.filter(name=name).exists():
        ensure_default_groups(app_config=last_signalled_app())
    return Group.objects.get(name=name)


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


def default_site():
    """The default site (rebuilt, with a root page, if a transactional test's
    flush removed it)."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        from django.conf import settings as django_settings
        from wagtail.models import Locale, Page

        Locale.objects.get_or_create(language_code=django_settings.LANGUAGE_CODE)
        root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
        site = Site.objects.create(hostname="localhost", port=80, root_page=root,
                                   is_default_site=True, site_name="Test")
    return site


def settings(**kwargs):
    site = default_site()
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
