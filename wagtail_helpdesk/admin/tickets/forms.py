"""The forms of the ticket page's actions.

Forms only parse and validate what the operator typed; the views hand the
cleaned data to :mod:`wagtail_helpdesk.services`. Each form carries the
ticket's ``version`` (a hidden field named ``version``) so a change made by
someone else in the meantime is detected instead of overwritten.

Field names are the ones the services use in ``GuardFailed.field_errors``, so
a refusal lands next to the field it is about. Every form has its own
``auto_id`` (``id_<action>_<field>``): several forms share the page and some
share field names (``body``).
"""

from django import forms
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from ... import choices_cache
from ...conf import get_setting
from ...formats import person_name
from ...formfields import MultipleFileField
from ...models import Office, OfficeMembership, Priority, ResolutionType
from ...services import presence
from ...services.actions import ASSIST_SOURCES
from ...services.consults import candidates
from ...tickets.actions import OFFERED
from ...tickets.queries import assignable_users
from . import widget_html
from .widget_html import WidgetRenderer


class ActionFormRenderer(WidgetRenderer):
    """The ticket list's renderer (its ``<select>`` written in Python, the
    templates' markup), and the hidden inputs and text areas of the ticket
    page's forms the same way (a dozen template renders a page)."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if template_name == _HIDDEN:
            return mark_safe(widget_html._input(widget).strip())  # noqa: S308 (escaped there)
        if template_name == _TEXTAREA:
            value = widget_html.variable(widget["value"]) if widget["value"] else ""
            return mark_safe(  # noqa: S308 (escaped as the template does)
                f'<textarea name="{widget_html.variable(widget["name"])}"'
                f'{widget_html.attributes(widget["attrs"])}>\n{value}</textarea>')
        return super().render(template_name, context, request)


_HIDDEN = "django/forms/widgets/hidden.html"
_TEXTAREA = "django/forms/widgets/textarea.html"
RENDERER = ActionFormRenderer()


class ObjectChoiceField(forms.ChoiceField):
    """A choice among objects loaded once (one query, reused to render and to
    validate); cleans to the chosen object."""

    def __init__(self, *, objects=(), label_from=str, **kwargs):
        super().__init__(**kwargs)
        self.set_objects(objects, label_from)

    def set_objects(self, objects, label_from=str):
        self.objects = {str(obj.pk): obj for obj in objects}
        self.choices = [("", "---------"),
                        *((key, label_from(obj)) for key, obj in self.objects.items())]

    def set_shown_choices(self, pairs):
        """Only show ``pairs`` (``(pk, label)``, e.g. from the cache): for an
        unbound form, which never cleans; a bound one loads its objects live
        (:meth:`set_objects`) and validates against them."""
        self.objects = {}
        self.choices = [("", "---------"), *((str(pk), label) for pk, label in pairs)]

    def clean(self, value):
        value = super().clean(value)
        return self.objects.get(value) if value else None


def _textarea(rows=4, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


class TicketActionForm(forms.Form):
    """Base of the actions' forms: the ticket, the user and the hidden version."""

    action = None
    default_renderer = RENDERER
    #: Fields whose choices are loaded from the database; without a choice the
    #: form is not shown (nobody to assign to, no other office…).
    choice_fields = ()

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, ticket, user, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.action}_%s")
        initial = {"version": ticket.version, **self.get_initial(ticket)}
        initial.update(kwargs.pop("initial", None) or {})
        super().__init__(*args, initial=initial, **kwargs)
        self.ticket = ticket
        self.user = user

    def get_initial(self, ticket):
        return {}

    @property
    def is_usable(self):
        return all(len(self.fields[name].choices) > 1 for name in self.choice_fields)

    @property
    def typed_text(self):
        """What the operator typed in this form's text fields (bound forms only)."""
        if not self.is_bound:
            return []
        texts = []
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.Textarea):
                value = (self.data.get(self.add_prefix(name)) or "").strip()
                if value:
                    texts.append((field.label, value))
        return texts

    def add_service_errors(self, error):
        """Put a ``HelpdeskError``'s field errors next to their fields."""
        for name, message in error.field_errors.items():
            self.add_error(name if name in self.fields else None, message)


class TakeChargeForm(TicketActionForm):
    action = "take_charge"


class AssignForm(TicketActionForm):
    action = "assign"
    choice_fields = ("assignee",)

    assignee = ObjectChoiceField(label=_("Assign to"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ticket = self.ticket
        if self.is_bound:  # validated against who can be assigned now
            operators = list(assignable_users(ticket.office_id).exclude(pk=ticket.assignee_id)
                             .select_related("helpdesk_presence"))
            self.fields["assignee"].set_objects(operators, _name_and_presence(operators))
            return
        # Shown: the office's operators from the cache, their presence live
        # (one query by primary key).
        operators = [(pk, name) for pk, name in cached_assignable(ticket.office_id)
                     if pk != ticket.assignee_id]
        statuses = presence.for_users([pk for pk, _name in operators])
        self.fields["assignee"].set_shown_choices(
            (pk, f"{name} — {statuses[pk].label}") for pk, name in operators)


class TransferForm(TicketActionForm):
    action = "transfer"
    choice_fields = ("office",)

    office = ObjectChoiceField(label=_("Transfer to the office"))
    note = forms.CharField(
        label=_("Note for the new office"), required=False, widget=_textarea(2),
        help_text=_("Operators only: the citizen does not see it."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:  # validated against the offices active now
            offices = Office.objects.active().exclude(pk=self.ticket.office_id).order_by("name")
            self.fields["office"].set_objects(offices)
        else:
            self.fields["office"].set_shown_choices(
                (pk, name) for pk, name in cached_offices() if pk != self.ticket.office_id)


class PriorityForm(TicketActionForm):
    action = "set_priority"

    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)

    def get_initial(self, ticket):
        return {"priority": ticket.priority}


class WaitingForm(TicketActionForm):
    action = "mark_waiting"

    message = forms.CharField(
        label=_("Message to the citizen"), required=False, widget=_textarea(3),
        help_text=_("Optional: what the citizen should answer or send. The citizen sees it."),
    )


class ResolveForm(TicketActionForm):
    action = "resolve"
    choice_fields = ("resolution_type",)

    resolution_type = ObjectChoiceField(label=_("Resolution type"))
    resolution_text = forms.CharField(
        label=_("Resolution"), widget=_textarea(4),
        help_text=_("The citizen sees it: explain how the ticket was resolved."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:  # validated against the types active now
            self.fields["resolution_type"].set_objects(ResolutionType.objects.active())
        else:
            self.fields["resolution_type"].set_shown_choices(cached_resolution_types())


class ReopenForm(TicketActionForm):
    action = "reopen"

    reason = forms.CharField(
        label=_("Why it is reactivated"), required=False, widget=_textarea(2),
        help_text=_("Optional. The citizen sees it."),
    )


class AssistedField(forms.CharField):
    """Where a reply started from when the operator inserted a suggested
    reply ("quick_reply:12", "ticket:345", "rewrite:quick_reply:12"; set by
    the reply box's script): cleans to ``{"source", "ref"}`` or None. A value
    the script would never send is dropped, not refused: the reply matters
    more than its mark."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=60, **kwargs)

    def clean(self, value):
        value = super().clean(value).strip()
        source, _sep, ref = value.partition(":")
        if source not in ASSIST_SOURCES or not ref or len(ref) > 40:
            return None
        if source == "rewrite":
            inner, _sep, inner_ref = ref.partition(":")
            valid = inner in ("quick_reply", "ticket") and inner_ref.isdigit()
        else:
            valid = ref.isdigit()
        return {"source": source, "ref": ref} if valid else None


class ReplyForm(TicketActionForm):
    action = "reply"

    body = forms.CharField(label=_("Message"), widget=_textarea(5))
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    assisted = AssistedField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _(
            "JPEG, PNG or WebP images and PDF documents, at most %(count)d files of "
            "%(size)s MB each."
        ) % {"count": get_setting("ATTACHMENT_MAX_COUNT"),
             "size": round(get_setting("ATTACHMENT_MAX_BYTES") / (1024 * 1024), 1)}


class NoteForm(TicketActionForm):
    action = "note"

    body = forms.CharField(
        label=_("Note"), widget=_textarea(3),
        help_text=_("Operators only: the citizen does not see it. Write @ and a colleague's "
                    "username to ask them: they are notified."),
    )


class ConsultForm(TicketActionForm):
    """Share the ticket with a colleague of another office for a consult (not
    one of the page's workflow actions: posted to its own view)."""

    action = "consult"
    choice_fields = ("consultant",)

    consultant = ObjectChoiceField(
        label=_("Colleague"),
        help_text=_("They can read the ticket, its internal notes and files, and add private "
                    "notes; nothing else. They are notified."),
    )
    message = forms.CharField(
        label=_("What you would like their advice on"), required=False, widget=_textarea(2),
        help_text=_("Optional. Operators only: the citizen does not see it."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One query: the candidates' memberships with their user and office.
        memberships = (OfficeMembership.objects
                       .filter(user__in=candidates(self.ticket))
                       .select_related("user", "office")
                       .order_by("user__first_name", "user__last_name", "user__username",
                                 "user_id", "office__name"))
        people = {}
        for membership in memberships:
            user = people.setdefault(membership.user_id, membership.user)
            user.__dict__.setdefault("consult_offices", []).append(membership)
        self.fields["consultant"].set_objects(people.values(), _colleague_label)

    @property
    def typed_text(self):
        return []  # shown again in its own panel, with what was typed


def cached_offices():
    """``[(pk, name)]`` of the active offices, by name (cached)."""
    return choices_cache.cached("transfer_offices", lambda: [
        (office.pk, str(office)) for office in Office.objects.active().order_by("name")])


def cached_resolution_types():
    """``[(pk, label)]`` of the active resolution types (cached)."""
    return choices_cache.cached("resolution_types", lambda: [
        (kind.pk, str(kind)) for kind in ResolutionType.objects.active()])


def cached_assignable(office_id):
    """``[(pk, name)]`` of who can be assigned a ticket of the office
    (:func:`~wagtail_helpdesk.tickets.queries.assignable_users`, cached)."""
    return choices_cache.cached(f"assignable:{office_id}", lambda: [
        (user.pk, person_name(user)) for user in assignable_users(office_id)])


def _name_and_presence(users):
    """"Name — Available" for users whose presence row was joined in
    (``select_related("helpdesk_presence")``): no query."""
    now = timezone.now()

    def row(user):
        try:
            return user.helpdesk_presence
        except ObjectDoesNotExist:
            return None

    statuses = {user.pk: presence.effective(row(user), now) for user in users}
    return lambda user: f"{person_name(user)} — {statuses[user.pk].label}"


def _colleague_label(user):
    offices = ", ".join(m.office.name for m in getattr(user, "consult_offices", ()))
    name = person_name(user)
    return f"{name} ({offices})" if offices else name


_FORMS = {form.action: form for form in (TakeChargeForm, AssignForm, TransferForm, PriorityForm,
                                         WaitingForm, ResolveForm, ReopenForm, ReplyForm,
                                         NoteForm)}
#: The page's actions' forms, in the order they are offered (a form for every
#: offered action: a missing one fails here, at import).
ACTION_FORMS = {slug: _FORMS[slug] for slug in OFFERED}
