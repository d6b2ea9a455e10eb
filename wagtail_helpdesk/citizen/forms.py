"""The citizens' step forms. They only parse and validate; the wizard keeps
what they cleaned and the services layer creates the ticket."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..conf import get_setting
from ..fiscalcode import FiscalCodeFormField
from ..formfields import MultipleFileField
from ..models import ReportCategory, Service
from .area import parse_coordinate

#: The honeypot: a field people never see (hidden by CSS and from assistive
#: technology) that bots fill in.
HONEYPOT = "website"


class StepForm(forms.Form):
    """Every step: Bootstrap Italia classes on the inputs, and the honeypot."""

    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, block_value=None, **kwargs):
        self.block_value = block_value or {}
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            elif not isinstance(widget, forms.ClearableFileInput):
                widget.attrs.setdefault("class", "form-control")
            if field.required:
                widget.attrs.setdefault("aria-required", "true")
            if name == HONEYPOT:
                widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_bot(self):
        return bool(self.data.get(self.add_prefix(HONEYPOT)))

    def visible_fields(self):
        return [f for f in super().visible_fields() if f.name != HONEYPOT]


def _ids(value, key):
    return [int(pk) for pk in (value.get(key) or []) if str(pk).isdigit()]


def offered_services(block_value):
    """The services a request block offers (all active ones when the editor
    chose none), with their categories."""
    services = Service.objects.active().filter(category__active=True).select_related("category")
    if ids := _ids(block_value, "services"):
        services = services.filter(pk__in=ids)
    if ids := _ids(block_value, "service_categories"):
        services = services.filter(category_id__in=ids)
    return list(services.order_by("category__sort_order", "category__name", "name"))


def offered_report_categories(block_value):
    categories = ReportCategory.objects.active()
    if ids := _ids(block_value, "report_categories"):
        categories = categories.filter(pk__in=ids)
    return list(categories.order_by("sort_order", "name"))


def _description_field(block_value, label):
    limit = int(block_value.get("max_description") or 600)
    return forms.CharField(
        label=label, max_length=limit,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": limit}),
        help_text=_("At most %(limit)d characters.") % {"limit": limit},
    )


def citizen_file_limit(block_value=None):
    """The most files a citizen attaches at once, on a form and in a reply
    from the personal area alike: the form block's "Most attachments" (the
    block's default where there is no block: a reply), never more than
    ``ATTACHMENT_MAX_COUNT``, which the services layer enforces on every
    channel. 0 when the block allows no files."""
    from ..blocks.forms import HelpdeskFormBlock

    default = HelpdeskFormBlock.base_blocks["max_attachments"].meta.default
    if block_value is None:
        chosen = default
    elif not block_value.get("attachments_allowed", True):
        return 0
    else:
        chosen = int(block_value.get("max_attachments") or default)
    return max(0, min(chosen, get_setting("ATTACHMENT_MAX_COUNT")))


def files_help_text(limit):
    """What a citizen may attach, said the same wherever they attach files."""
    return ngettext("Optional. Up to %(count)d file: a JPEG, PNG or WebP image, or a PDF.",
                    "Optional. Up to %(count)d files: JPEG, PNG or WebP images, or PDF.",
                    limit) % {"count": limit}


def too_many_files(limit):
    return ngettext("Attach at most %(count)d file at a time.",
                    "Attach at most %(count)d files at a time.", limit) % {"count": limit}


def _attachments_field(block_value, label):
    limit = citizen_file_limit(block_value)
    if not limit:
        return None
    return MultipleFileField(label=label, required=False, help_text=files_help_text(limit))


class RequestDetailsForm(StepForm):
    """Request, step 1: category, service, details (and files)."""

    category = forms.TypedChoiceField(label=_("Service category"), coerce=int)
    service = forms.TypedChoiceField(label=_("Service"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.services = {s.pk: s for s in offered_services(self.block_value)}
        categories = {}
        grouped = {}
        for service in self.services.values():
            categories[service.category_id] = service.category
            grouped.setdefault(service.category.name, []).append((service.pk, service.name))
        self.categories = categories
        self.fields["category"].choices = [("", _("Choose a category"))] + [
            (pk, c.name) for pk, c in categories.items()]
        self.fields["service"].choices = [("", _("Choose a service"))] + list(grouped.items())
        self.fields["service"].widget.attrs["data-helpdesk-services"] = ""
        self.fields["category"].widget.attrs["data-helpdesk-categories"] = ""
        self.fields["details"] = _description_field(self.block_value, _("Details"))
        if field := _attachments_field(self.block_value, _("Attachments")):
            self.fields["attachments"] = field

    def clean(self):
        data = super().clean()
        service = self.services.get(data.get("service"))
        if data.get("service") and service is None:
            self.add_error("service", _("Choose one of the services listed."))
        elif service is not None and data.get("category") and \
                service.category_id != data["category"]:
            self.add_error("service", _("This service is not in the chosen category."))
        return data


class PersonForm(StepForm):
    """The applicant's personal data. Read-only when the citizen logged in
    with SPID/CIE (the values come from the identity provider)."""

    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    fiscal_code = FiscalCodeFormField(label=_("Fiscal code"))
    email = forms.EmailField(label=_("E-mail"), max_length=254,
                             help_text=_("We send the receipt and the replies here."))
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False,
                            help_text=_("Optional."),
                            widget=forms.TextInput(attrs={"type": "tel"}))

    def __init__(self, *args, verified=None, anonymous=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.verified = verified
        for name, autocomplete in (("given_name", "given-name"), ("family_name", "family-name"),
                                   ("email", "email"), ("phone", "tel")):
            self.fields[name].widget.attrs["autocomplete"] = autocomplete
        self.fields["fiscal_code"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false", "style": "text-transform:uppercase"})
        if anonymous:
            for name in ("given_name", "family_name", "fiscal_code"):
                self.fields[name].required = False
                self.fields[name].help_text = _("Optional.")
        if verified is not None:
            for name in ("given_name", "family_name", "fiscal_code"):
                field = self.fields[name]
                field.disabled = True
                field.required = False
                field.initial = getattr(verified, name) or ""
                field.help_text = _("From your SPID/CIE identity.")
            for name in ("email", "phone"):
                if getattr(verified, name):
                    self.fields[name].initial = getattr(verified, name)

    def clean_phone(self):
        return clean_phone_number(self.cleaned_data.get("phone"))


#: A phone number as people write it: digits, spaces, + ( ) - . (a leading +).
_PHONE = re.compile(r"\+?[0-9 ().\-]+")
PHONE_DIGITS = (6, 15)  # the shortest Italian numbers; E.164's longest


def clean_phone_number(value):
    """The phone number as typed (trimmed), or a clear error; "" when empty."""
    value = (value or "").strip()
    if not value:
        return ""
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE.fullmatch(value) or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        raise ValidationError(
            _("Enter a phone number: %(min)d to %(max)d digits; spaces, +, brackets, "
              "dashes and dots are allowed.") % {"min": PHONE_DIGITS[0], "max": PHONE_DIGITS[1]},
            code="invalid")
    return value


class PrivacyForm(StepForm):
    privacy = forms.BooleanField(
        label=_("I have read and understood the privacy notice"),
        error_messages={"required": _("To continue, confirm you have read the privacy notice.")},
    )


class RequestSummaryForm(PrivacyForm):
    """Request, step 3: the summary, the privacy consent, submit."""


class ReportDetailsForm(StepForm):
    """Report, step 2: place, problem type, title, details, photos."""

    address = forms.CharField(label=_("Address or place"), max_length=255, required=False,
                              help_text=_("For example: Via Roma 12, or the name of the park."))
    latitude = forms.CharField(label=_("Latitude"), required=False, max_length=20,
                               help_text=_("Optional: set by the map."))
    longitude = forms.CharField(label=_("Longitude"), required=False, max_length=20,
                                help_text=_("Optional: set by the map."))
    category = forms.TypedChoiceField(label=_("Problem type"), coerce=int)
    title = forms.CharField(label=_("Title"), max_length=120)

    def __init__(self, *args, area=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.area = area
        self.categories = {c.pk: c for c in offered_report_categories(self.block_value)}
        self.fields["category"].choices = [("", _("Choose a problem type"))] + [
            (pk, c.name) for pk, c in self.categories.items()]
        for name in ("latitude", "longitude"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        self.fields["details"] = _description_field(self.block_value, _("Details"))
        if field := _attachments_field(self.block_value, _("Photos")):
            self.fields["attachments"] = field

    def clean_latitude(self):
        return parse_coordinate(self.cleaned_data.get("latitude"), -90, 90)

    def clean_longitude(self):
        return parse_coordinate(self.cleaned_data.get("longitude"), -180, 180)

    def clean_category(self):
        value = self.cleaned_data.get("category")
        if value not in self.categories:
            raise ValidationError(_("Choose one of the problem types listed."))
        return value

    def clean(self):
        data = super().clean()
        lat, lon = data.get("latitude"), data.get("longitude")
        if (lat is None) != (lon is None) and not self.has_error("latitude") \
                and not self.has_error("longitude"):
            self.add_error("longitude" if lon is None else "latitude",
                           _("Give both coordinates, or neither."))
        elif lat is None and not (data.get("address") or "").strip() \
                and not self.has_error("latitude"):
            self.add_error("address", _("Say where the problem is: an address, or a point on "
                                        "the map."))
        elif lat is not None and self.area is not None and not self.area.contains(lat, lon):
            self.add_error("address", _("This place is outside the municipality's territory: "
                                        "choose a point inside it."))
        return data


class ConfirmForm(StepForm):
    """The last step of a report: "Conferma e invia"."""


def serialise(form):
    """The form's cleaned data as JSON-friendly values (for the session)."""
    out = {}
    for name, value in form.cleaned_data.items():
        if name in (HONEYPOT, "attachments"):
            continue
        out[name] = str(value) if value is not None and not isinstance(
            value, (str, int, bool)) else value
    return out
