"""The service form: the App IO API key is write-only (never sent back to the
browser); left empty it keeps the saved key, and a box removes it."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm


class ServiceForm(WagtailAdminModelForm):
    remove_io_api_key = forms.BooleanField(label=_("Remove the saved App IO key"),
                                           required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("io_api_key")
        if field is not None:
            field.required = False
            saved = bool(self.instance and self.instance.io_api_key)
            field.widget = forms.PasswordInput(render_value=False, attrs={
                "autocomplete": "off",
                "placeholder": _("A key is saved: leave empty to keep it") if saved else ""})
        if not (self.instance and self.instance.io_api_key):
            self.fields.pop("remove_io_api_key", None)

    def clean_io_api_key(self):
        typed = (self.cleaned_data.get("io_api_key") or "").strip()
        self.typed_io_api_key = bool(typed)
        return typed or (self.instance.io_api_key if self.instance.pk else "")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("remove_io_api_key") and getattr(self, "typed_io_api_key", False):
            self.add_error("remove_io_api_key", _(
                "Either type a new key or remove the saved one, not both."))
        return cleaned

    def save(self, commit=True):
        if self.cleaned_data.get("remove_io_api_key"):
            self.instance.io_api_key = ""
        return super().save(commit=commit)
