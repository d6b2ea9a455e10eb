"""The "Crea ticket" form: a ticket taken by phone, at the desk or by e-mail,
saved as a draft or submitted."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ...fiscalcode import FiscalCodeFormField
from ...formfields import MultipleFileField
from ...models import Channel, Citizen, Kind, Priority, ReportCategory, Service
from ...services.lookup import FINDABLE

OPERATOR_CHANNELS = [(c.value, c.label) for c in (Channel.PHONE, Channel.DESK, Channel.EMAIL)]


class TicketDraftForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, widget=forms.RadioSelect,
                             initial=Kind.REQUEST)
    channel = forms.ChoiceField(label=_("Channel"), choices=OPERATOR_CHANNELS,
                                initial=Channel.PHONE)
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(),
                                     required=False,
                                     help_text=_("For assistance requests."))
    report_category = forms.ModelChoiceField(
        label=_("Problem type"), queryset=ReportCategory.objects.none(), required=False,
        help_text=_("For reports."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}),
                                  required=False, max_length=5000)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    latitude = forms.DecimalField(label=_("Latitude"), max_digits=9, decimal_places=6,
                                  required=False, min_value=-90, max_value=90)
    longitude = forms.DecimalField(label=_("Longitude"), max_digits=9, decimal_places=6,
                                   required=False, min_value=-180, max_value=180)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int,
                                      initial=Priority.NORMAL)
    citizen = forms.ModelChoiceField(label=_("Citizen"), queryset=Citizen.objects.filter(
        FINDABLE), required=False, widget=forms.RadioSelect)
    citizen_query = forms.CharField(label=_("Find a citizen by name or fiscal code"),
                                    required=False, max_length=100)
    new_given_name = forms.CharField(label=_("Given name"), max_length=100, required=False)
    new_family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
    new_fiscal_code = FiscalCodeFormField(required=False)
    new_email = forms.EmailField(label=_("E-mail"), required=False)
    new_phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    note = forms.CharField(label=_("Private note"), widget=forms.Textarea(attrs={"rows": 3}),
                           required=False, max_length=5000,
                           help_text=_("Visible to operators only."))
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args, offices, citizen_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.active().filter(
            office__in=offices).select_related("category")
        self.fields["report_category"].queryset = ReportCategory.objects.active().filter(
            office__in=offices)
        ids = [c.pk for c in citizen_choices]
        chosen = self.data.get(self.add_prefix("citizen")) or self.initial.get("citizen")
        if chosen:
            ids.append(getattr(chosen, "pk", chosen))
        # Only registered citizens: a declared record belongs to its own ticket.
        self.fields["citizen"].queryset = Citizen.objects.filter(FINDABLE, pk__in=ids)

    def catalogue(self):
        data = self.cleaned_data
        if data["kind"] == Kind.REQUEST:
            return {"service": data.get("service"), "report_category": None}
        return {"service": None, "report_category": data.get("report_category")}

    def ticket_fields(self):
        data = self.cleaned_data
        return {
            **self.catalogue(),
            "subject": data["subject"], "description": data["description"],
            "address": data["address"], "latitude": data["latitude"],
            "longitude": data["longitude"], "priority": data["priority"],
            "channel": data["channel"],
        }

    def new_citizen(self):
        data = self.cleaned_data
        if not (data["new_given_name"] or data["new_family_name"] or data["new_fiscal_code"]):
            return None
        return {"given_name": data["new_given_name"], "family_name": data["new_family_name"],
                "fiscal_code": data["new_fiscal_code"], "email": data["new_email"],
                "phone": data["new_phone"]}
