"""Open311 clients in the admin (Helpdesk menu, administrators): name them,
see when each last filed a report, revoke a key by deactivating its client.

A key is shown once, on the page that follows its creation (a new client,
or "Replace the key" on an existing one); only its hash is stored.
"""

from django import forms
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn
from wagtail.admin.views import generic

from ..admin.viewsets import CatalogueViewSet
from ..models import Open311Client


class Open311ClientForm(WagtailAdminModelForm):
    new_key = forms.BooleanField(
        label=_("Replace the key"), required=False,
        help_text=_("Makes a new key and shows it once; the current key stops working at once."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields.pop("new_key", None)
        self.plain_key = None

    def save(self, commit=True):
        if not self.instance.pk or self.cleaned_data.get("new_key"):
            self.plain_key = self.instance.set_key()
        return super().save(commit=commit)


class ShowKeyMixin:
    """After saving a new key, show it (once) instead of going back to the list."""

    def save_action(self):
        key = getattr(self.form, "plain_key", None)
        if not key or self.expects_json_response:
            return super().save_action()
        response = TemplateResponse(self.request, "wagtail_helpdesk/admin/open311_client_key.html", {
            "client": self.object, "key": key, "header_icon": "globe",
            "page_title": _("API key of %(name)s") % {"name": self.object.name},
            "header_title": _("API key of %(name)s") % {"name": self.object.name},
            "index_url": self.get_success_url(),
        })
        add_never_cache_headers(response)
        return response


class Open311ClientCreateView(ShowKeyMixin, generic.CreateView):
    pass


class Open311ClientEditView(ShowKeyMixin, generic.EditView):
    pass


class Open311ClientViewSet(CatalogueViewSet):
    model = Open311Client
    icon = "globe"
    menu_label = _("Open311 clients")
    menu_order = 580
    add_view_class = Open311ClientCreateView
    edit_view_class = Open311ClientEditView
    list_display = ["name", Column("key_hint", label=_("Key starts with")),
                    DateColumn("last_used_at", label=_("Last used")),
                    DateColumn("created_at", label=_("Created")),
                    BooleanColumn("active", label=_("Active"))]
    list_filter = ["active"]

    @property
    def edit_handler(self):
        return ObjectList([*Open311Client.panels, FieldPanel("new_key")],
                          base_form_class=Open311ClientForm)


open311_client_viewset = Open311ClientViewSet("helpdesk_open311_clients",
                                              url_prefix="helpdesk/open311-clients")
