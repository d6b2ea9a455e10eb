"""The two citizen journeys as steps of forms, and what each button does.

A :class:`Flow` is built for one block value, one request and its
:class:`~.wizard.Wizard`; the block asks it for the forms to render, the
submission view hands it the POST. Tickets are created by
:func:`wagtail_helpdesk.services.submit_web_ticket`, never here.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import services
from ..errors import HelpdeskError
from ..models import Kind, ReportCategory, Service
from . import forms as f
from .area import Area
from .nearby import open_reports_near

RECEIPTS_KEY = "wagtail_helpdesk_receipts"
#: Free-text fields a draft keeps even when the step refuses them.
DRAFT_TEXT_FIELDS = ("details", "title", "address")
LOGIN_REQUIRED, LOGIN_OPTIONAL, ANONYMOUS = "required", "optional", "anonymous"


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    forms: tuple  # ((prefix, form class), …); prefix "" for the main form


class Flow(ABC):
    kind = None
    steps = ()
    files_field_step = None  # the step whose main form has the attachments field

    def __init__(self, block_value, request, wizard, *, dom_id="helpdesk"):
        self.value = block_value
        self.request = request
        self.wizard = wizard
        self.dom_id = dom_id
        self.verified = services.verified_citizen(getattr(request, "user", None))

    # -- helpers -----------------------------------------------------------------------
    @property
    def login_policy(self):
        return self.value.get("login_policy") or LOGIN_OPTIONAL

    @property
    def needs_login(self):
        return self.login_policy == LOGIN_REQUIRED and self.verified is None

    @property
    def max_files(self):
        return f.citizen_file_limit(self.value)

    def current(self):
        step = min(max(int(self.wizard.step), 1), len(self.steps))
        return step, self.steps[step - 1]

    def form_kwargs(self, form_class, prefix):
        kwargs = {"block_value": self.value, "prefix": prefix or None,
                  "auto_id": f"{self.dom_id}-{prefix or 'f'}-%s"}
        if issubclass(form_class, f.PersonForm):
            kwargs.update(verified=self.verified, anonymous=self.login_policy == ANONYMOUS)
        if issubclass(form_class, f.ReportDetailsForm):
            kwargs["area"] = self.area
        return kwargs

    @cached_property
    def site(self):
        """The Wagtail site the citizen is on (its short-code prefixes and
        receipts apply); Wagtail keeps it on the request once found."""
        from .rendering import request_site  # rendering imports this module

        return request_site(self.request)

    @cached_property
    def area(self):
        """Parsed once per request (it may read an uploaded GeoJSON document)."""
        return Area.from_block(self.value)

    def build_forms(self, step, data=None, files=None):
        """The step's forms: bound to ``data`` when given, else filled with
        what the citizen already typed."""
        _number, spec = step
        typed = self.wizard.state.get("typed", {}).get(spec.slug) or {}
        built = {}
        for prefix, form_class in spec.forms:
            kwargs = self.form_kwargs(form_class, prefix)
            if data is not None:
                built[prefix] = form_class(data, files, **kwargs)
                continue
            mine = {k.split("-", 1)[1]: v for k, v in typed.items()
                    if k.startswith(f"{prefix}-")} if prefix else {
                    k: v for k, v in typed.items() if "-" not in k}
            built[prefix] = form_class(initial={**self.wizard.data, **mine}, **kwargs)
        return built

    # -- handling a POST -----------------------------------------------------------------
    def handle(self, action, post, files):
        """Apply ``action`` ("next", "back", "submit", "goto", "restart", "save",
        "resume", "discard") and save the wizard, unless the POST is ignored.
        Returns nothing: the view redirects in any case."""
        if self._apply(action, post, files):
            self.wizard.save()

    def _apply(self, action, post, files):
        """Apply ``action`` to the wizard; False when the POST is ignored (a
        replay after sending, a bot's) and there is nothing to save."""
        if action == "restart":
            self.wizard.restart()
            return True
        if self.wizard.done:
            return False  # a replayed POST after sending: nothing to do
        if action in ("resume", "discard"):
            if self.can_save:
                handler = self._resume if action == "resume" else self._discard
                handler(_int(post.get("draft")))
            return True
        number, spec = self.current()
        forms = self.build_forms((number, spec), post, files)
        if any(form.is_bot for form in forms.values()):
            return False  # honeypot filled: ignore silently
        if action == "save":
            if self.can_save:
                self._save_draft(spec, post, files, forms)
        elif action == "goto":
            self._go_to(_int(post.get("step")), number, spec, post)
        else:
            self._post_step(action, number, spec, post, files, forms)
        return True

    def _go_to(self, target, number, spec, post):
        """Back to an earlier step (the step list's links), keeping what was typed."""
        if target and 1 <= target < number:
            self._remember_typed(spec, post)
            self.wizard.go(target)

    def _post_step(self, action, number, spec, post, files, forms):
        """The step's own buttons ("back", "next", "submit"): forward only when
        the step is valid; refused input is kept to be shown with its errors."""
        wizard = self.wizard
        wizard.state["notices"] = []
        file_errors = self._take_files(spec, post, files)
        valid = all(form.is_valid() for form in forms.values()) and not file_errors
        if action == "back":
            self._remember_typed(spec, post)
            if valid:
                self._keep(forms)
            wizard.go(max(1, number - 1))
        elif not valid:
            wizard.refuse(_raw(post), file_errors)
        else:
            self._keep(forms)
            wizard.state.get("typed", {}).pop(spec.slug, None)
            if number < len(self.steps):
                wizard.go(number + 1)
            elif action == "submit":
                self._send()

    def _remember_typed(self, spec, post):
        wizard = self.wizard
        wizard.state.setdefault("typed", {})[spec.slug] = {
            k: v for k, v in _raw(post).items() if not k.startswith(("csrf", "action", "website"))}

    def _keep(self, forms):
        for form in forms.values():
            self.wizard.keep(f.serialise(form))

    def _take_files(self, spec, post, files):
        if spec.slug != self.files_field_step or not self.max_files:
            return []
        self.wizard.remove_files(set(post.getlist("remove_file")))
        return self.wizard.add_files(files.getlist("attachments"), self.max_files)

    # -- drafts ("Salva richiesta", verified citizens only) --------------------------------
    @property
    def can_save(self):
        return self.verified is not None

    def drafts(self):
        """The citizen's saved drafts of this kind, offered on a fresh first step."""
        if not self.can_save or self.wizard.data or self.wizard.state.get("draft_id"):
            return []
        return list(services.citizen_drafts(self.request.user, self.kind)[:5])

    def _save_draft(self, spec, post, files, forms):
        wizard = self.wizard
        wizard.state["file_errors"] = self._take_files(spec, post, files)
        wizard.state["notices"] = []
        self._remember_typed(spec, post)
        partial = dict(wizard.data)
        for form in forms.values():
            form.is_valid()  # keeps the fields that are valid in cleaned_data
            partial.update(f.serialise(form))
            for name in DRAFT_TEXT_FIELDS:  # text refused as it is (too long…): kept anyway
                if name in form.fields and name not in form.cleaned_data:
                    partial[name] = (post.get(form.add_prefix(name)) or "").strip()
        try:
            draft = services.submit_web_ticket(
                user=self.request.user, kind=self.kind, attachments=wizard.uploads(),
                draft=True, replaces_draft=wizard.state.get("draft_id"),
                site=self.site, **self.draft_fields(partial))
        except HelpdeskError as exc:
            wizard.notice(exc.message)
            return
        wizard.state.update(draft_id=draft.pk, saved=True, raw=None)

    def _resume(self, draft_id):
        draft = services.citizen_drafts(self.request.user, self.kind).filter(pk=draft_id).first()
        if draft is None:
            return
        wizard = self.wizard
        wizard.restart()
        wizard.keep(self.data_from_draft(draft))
        wizard.adopt(draft.attachments.all())
        wizard.state["draft_id"] = draft.pk

    def _discard(self, draft_id):
        services.discard_web_draft(user=self.request.user, draft_id=draft_id)
        if self.wizard.state.get("draft_id") == draft_id:
            self.wizard.state["draft_id"] = None

    def _send(self):
        wizard = self.wizard
        count = len(wizard.files)
        uploads = wizard.uploads()
        if len(uploads) < count:  # files lost meanwhile: back to where they are attached
            notices = wizard.state["notices"]
            wizard.go(next(i for i, s in enumerate(self.steps, 1)
                           if s.slug == self.files_field_step))
            wizard.state["notices"] = notices
            return
        try:
            ticket = services.submit_web_ticket(
                user=getattr(self.request, "user", None), person=self.person(),
                kind=self.kind, attachments=uploads,
                idempotency_key=f"web:{wizard.token}", site=self.site,
                replaces_draft=wizard.state.get("draft_id"), **self.ticket_fields())
        except HelpdeskError as exc:
            wizard.notice(exc.message)
            for message in exc.field_errors.values():
                wizard.notice(message)
            return
        receipts = list(self.request.session.get(RECEIPTS_KEY) or [])[-19:]
        self.request.session[RECEIPTS_KEY] = [*receipts, ticket.pk]
        wizard.finish({
            "ticket": ticket.pk, "reference": ticket.reference,
            "short_code": ticket.short_code or "", "kind": ticket.kind,
            "email": (ticket.citizen.email if ticket.citizen else "") or "",
        })

    def person(self):
        data = self.wizard.data
        return {name: data.get(name, "") for name in
                ("given_name", "family_name", "fiscal_code", "email", "phone")}

    def ticket_fields(self):
        """The ticket's own fields for ``services.submit_web_ticket``."""
        return self.draft_fields(self.wizard.data)

    @abstractmethod
    def draft_fields(self, data):
        """The ticket fields of a draft from possibly incomplete ``data``."""

    @abstractmethod
    def data_from_draft(self, ticket):
        """The wizard data that resumes ``ticket`` (a saved draft)."""

    @abstractmethod
    def summary(self):
        """(label, value) rows of the summary step."""


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _raw(post):
    return {key: post.get(key) for key in post if key != "csrfmiddlewaretoken"}


class RequestFlow(Flow):
    kind = Kind.REQUEST
    files_field_step = "details"
    steps = (
        Step("details", gettext_lazy("Request"), (("", f.RequestDetailsForm),)),
        Step("person", gettext_lazy("Personal data"), (("", f.PersonForm),)),
        Step("summary", gettext_lazy("Summary"), (("", f.RequestSummaryForm),)),
    )

    def draft_fields(self, data):
        service = Service.objects.filter(pk=_int(data.get("service"))).first()
        return {"service": service, "description": data.get("details", "")}

    def data_from_draft(self, ticket):
        data = {"details": ticket.description}
        if ticket.service_id:
            data.update(service=ticket.service_id, category=ticket.service.category_id)
        return data

    def summary(self):
        data = self.wizard.data
        service = Service.objects.filter(pk=data.get("service")).select_related(
            "category").first()
        return [
            (_("Service category"), service.category.name if service else ""),
            (_("Service"), service.name if service else ""),
            (_("Details"), data.get("details", "")),
        ]


class ReportFlow(Flow):
    kind = Kind.REPORT
    files_field_step = "details"
    steps = (
        Step("privacy", gettext_lazy("Privacy notice"), (("", f.PrivacyForm),)),
        Step("details", gettext_lazy("Report details"),
             (("", f.ReportDetailsForm), ("author", f.PersonForm))),
        Step("summary", gettext_lazy("Summary"), (("", f.ConfirmForm),)),
    )

    def draft_fields(self, data):
        category = ReportCategory.objects.filter(pk=_int(data.get("category"))).first()
        lat, lng = data.get("latitude") or None, data.get("longitude") or None
        if lat is None or lng is None:
            lat = lng = None
        return {"report_category": category, "subject": (data.get("title") or "")[:200],
                "description": data.get("details", ""),
                "address": (data.get("address") or "")[:255], "latitude": lat, "longitude": lng}

    def data_from_draft(self, ticket):
        data = {"title": ticket.subject, "details": ticket.description,
                "address": ticket.address}
        if ticket.report_category_id:
            data["category"] = ticket.report_category_id
        if ticket.latitude is not None and ticket.longitude is not None:
            data.update(latitude=str(ticket.latitude), longitude=str(ticket.longitude))
        return data

    def nearby(self):
        """Open reports of the chosen type near the chosen point."""
        data = self.wizard.data
        return open_reports_near(data.get("category"), data.get("latitude") or None,
                                 data.get("longitude") or None,
                                 self.value.get("nearby_radius") or 0)

    def summary(self):
        data = self.wizard.data
        category = ReportCategory.objects.filter(pk=data.get("category")).first()
        place = data.get("address") or ""
        if data.get("latitude"):
            place = f"{place} ({data['latitude']}, {data['longitude']})".strip()
        return [
            (_("Place"), place),
            (_("Problem type"), category.name if category else ""),
            (_("Title"), data.get("title", "")),
            (_("Details"), data.get("details", "")),
        ]
