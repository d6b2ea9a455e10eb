"""The forms of the citizen's chat widget: starting a conversation, asking
to be called back, rating it. They only parse and validate; the views call
:mod:`wagtail_helpdesk.services.conversations` with what they cleaned."""

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
from ..models import Service
from .forms import StepForm, clean_phone_number

CLIENT_ID_MAX = 64


def chat_services(value=None):
    """The services a chat widget offers (all active ones when the editor
    chose none), with their categories, in the catalogue's order."""
    value = value or {}
    services = Service.objects.active().filter(category__active=True).select_related(
        "category", "office")
    ids = [int(pk) for pk in (value.get("services") or []) if str(pk).isdigit()]
    if ids:
        services = services.filter(pk__in=ids)
    ids = [int(pk) for pk in (value.get("service_categories") or []) if str(pk).isdigit()]
    if ids:
        services = services.filter(category_id__in=ids)
    return list(services.order_by("category__sort_order", "category__name", "name"))


class ChatStartForm(StepForm):
    """Step 1 of the widget: the topic, the first message and — for a citizen
    not logged in with SPID/CIE — who they are (a declared identity, kept
    for this conversation only), and the privacy notice's acceptance."""

    service = forms.TypedChoiceField(label=_("Topic"), coerce=int,
                                     error_messages={"invalid_choice": _(
                                         "Choose one of the services listed.")})
    body = forms.CharField(label=_("Your question"), widget=forms.Textarea(attrs={"rows": 3}))
    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    email = forms.EmailField(label=_("E-mail"), max_length=254, help_text=_(
        "If the chat ends before we answer, we write to you here."))
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False,
                            help_text=_("Optional."),
                            widget=forms.TextInput(attrs={"type": "tel"}))
    privacy = forms.BooleanField(
        label=_("I have read and understood the privacy notice"),
        error_messages={"required": _("To continue, confirm you have read the privacy "
                                      "notice.")})
    client_id = forms.CharField(required=False, max_length=CLIENT_ID_MAX,
                                widget=forms.HiddenInput)

    PERSON = ("given_name", "family_name", "email", "phone")

    def __init__(self, *args, services=None, verified=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.verified = verified
        self.services = {s.pk: s for s in (services if services is not None
                                           else chat_services())}
        grouped = {}
        for service in self.services.values():
            grouped.setdefault(service.category.name, []).append((service.pk, service.name))
        self.fields["service"].choices = [("", _("Choose a topic"))] + list(grouped.items())
        limit = get_setting("CHAT_MESSAGE_MAX_CHARS")
        self.fields["body"].max_length = limit
        self.fields["body"].widget.attrs["maxlength"] = limit
        self.fields["body"].validators.append(MaxLengthValidator(limit))
        for name, autocomplete in (("given_name", "given-name"), ("family_name", "family-name"),
                                   ("email", "email"), ("phone", "tel")):
            self.fields[name].widget.attrs["autocomplete"] = autocomplete
            self.fields[name].widget.attrs["data-chat-field"] = name
            if self.fields[name].help_text:
                self.fields[name].widget.attrs["aria-describedby"] = f"{self[name].auto_id}-hint"
        if verified is not None:
            # Who they are comes from SPID/CIE: nothing typed is used.
            for name in self.PERSON:
                field = self.fields[name]
                field.disabled = True
                field.required = False
                field.initial = getattr(verified, name, "") or ""

    def clean_phone(self):
        return clean_phone_number(self.cleaned_data.get("phone"))

    def clean_body(self):
        body = (self.cleaned_data.get("body") or "").strip()
        if not body:
            raise forms.ValidationError(_("This field is required."), code="required")
        return body

    def clean_client_id(self):
        value = self.cleaned_data.get("client_id") or ""
        return value if value.isprintable() else ""

    @property
    def person_fields(self):
        return [self[name] for name in self.PERSON]

    @property
    def service_object(self):
        return self.services.get(self.cleaned_data.get("service"))

    @property
    def person(self):
        """Only the cleaned identity fields (None when logged in with SPID/CIE)."""
        if self.verified is not None:
            return None
        return {name: self.cleaned_data.get(name, "") for name in self.PERSON}


class CallbackForm(forms.Form):
    """"Richiamatemi": the number to call back."""

    callback_phone = forms.CharField(label=_("Phone number to call you back"), max_length=40)

    def clean_callback_phone(self):
        return clean_phone_number(self.cleaned_data.get("callback_phone"))


class ChatRatingForm(forms.Form):
    score = forms.TypedChoiceField(label=_("Your rating"), coerce=int,
                                   choices=[(n, str(n)) for n in range(1, 6)],
                                   error_messages={
                                       "required": _("Choose a rating from 1 to 5."),
                                       "invalid_choice": _("Choose a rating from 1 to 5.")})
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 2}))


def field_errors(form):
    """A form's errors as ``{field: [messages]}`` (``__all__`` for the others)."""
    return {name: [str(m) for m in messages] for name, messages in form.errors.items()}
