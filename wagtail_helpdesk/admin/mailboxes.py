"""The mailboxes the help desk reads ("Caselle di posta", Helpdesk menu):
administrators only — those who see every office, and superusers.

The password is write-only: never sent back to the browser; left empty it
keeps the saved one, and a box removes it. The IMAP settings are shown only
for IMAP mailboxes (Wagtail's ``w-rules`` controller; without JavaScript all
fields show). "Test connection" logs in and opens the folder, and says how
it went.
"""

from django import forms
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin import messages
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies.base import ModelPermissionPolicy

from ..models import Mailbox, MailboxProtocol
from ..permissions import ticket_policy
from .viewsets import CatalogueViewSet

URL_NAME = "helpdesk_mailboxes"

#: The fields only an IMAP mailbox needs.
IMAP_FIELDS = ("host", "port", "security", "username", "password", "folder",
               "processed_folder")


def is_administrator(user):
    return bool(user is not None and user.is_authenticated and user.is_active
                and ticket_policy().sees_all_offices(user))


class MailboxPermissionPolicy(ModelPermissionPolicy):
    """Everything to administrators, nothing to anybody else: a mailbox's
    settings include its password, and what it reads goes to every office."""

    def user_has_permission(self, user, action):
        return is_administrator(user)

    def user_has_permission_for_instance(self, user, action, instance):
        return is_administrator(user)

    def instances_user_has_any_permission_for(self, user, actions):
        objects = self.model._default_manager.all()
        return objects if is_administrator(user) else objects.none()

    def users_with_any_permission(self, actions):
        return ticket_policy().users_with_any_permission(["view_all"])


#: Where the saved password goes: changing any of these asks for it again.
SERVER_FIELDS = ("host", "port", "security", "username")


class MailboxForm(WagtailAdminModelForm):
    clear_password = forms.BooleanField(label=gettext_lazy("Remove the saved password"),
                                        required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        saved = bool(self.instance.pk and self.instance.password)
        field = self.fields["password"]
        field.required = False
        field.widget = forms.PasswordInput(render_value=False, attrs={
            "autocomplete": "new-password",
            "placeholder": _("A password is saved: leave empty to keep it") if saved else ""})
        if not saved:
            self.fields.pop("clear_password", None)

    def clean_password(self):
        typed = self.cleaned_data.get("password") or ""
        self.typed_password = bool(typed)
        return typed or (self.instance.password if self.instance.pk else "")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_password") and getattr(self, "typed_password", False):
            self.add_error("clear_password", _(
                "Either type a new password or remove the saved one, not both."))
        if cleaned.get("protocol") == MailboxProtocol.IMAP:
            for name in ("host", "username"):
                if name in cleaned and not cleaned.get(name):
                    self.add_error(name, _("An IMAP mailbox needs this."))
        moved = set(SERVER_FIELDS) & set(self.changed_data)
        if (moved and self.instance.pk and self.instance.password
                and not getattr(self, "typed_password", False)
                and not cleaned.get("clear_password")):
            # The saved password goes only to the server it was typed for.
            self.add_error("password", _("Type the password again: the server, the port, "
                                         "the security or the user name changed."))
        return cleaned

    def save(self, commit=True):
        if self.cleaned_data.get("clear_password"):
            self.instance.password = ""
        if {*SERVER_FIELDS, "folder"} & set(self.changed_data):
            # Another mailbox or folder: its UIDs mean nothing here (read it from the start;
            # what was stored already is recognised by its content).
            self.instance.uidvalidity, self.instance.last_uid = None, 0
        return super().save(commit=commit)


class MailboxEditView(generic.EditView):
    def get_header_buttons(self):
        buttons = super().get_header_buttons()
        if self.object.protocol == MailboxProtocol.IMAP:
            buttons.append(HeaderButton(
                _("Test connection"), icon_name="resubmit", attrs={
                    "data-controller": "w-action", "data-action": "w-action#post",
                    "data-w-action-url-value": reverse(f"{URL_NAME}:test",
                                                       args=[self.object.pk])}))
        return buttons


@require_POST
def test_connection(request, pk):
    """Log in and open the folder with the saved settings; say how it went."""
    if not is_administrator(request.user):
        raise PermissionDenied
    mailbox = get_object_or_404(Mailbox, pk=pk)
    from ..inbound.imap import check_connection

    try:
        error = check_connection(mailbox)
    except Exception as exc:  # the button must answer, whatever the library does
        error = exc.__class__.__name__
    if error:
        messages.error(request, _("The connection to %(server)s failed: %(error)s") % {
            "server": mailbox.host or "—", "error": error})
    else:
        messages.success(request, _("Connected to %(server)s: the login and the folder "
                                    "“%(folder)s” work.") % {
            "server": mailbox.host, "folder": mailbox.folder})
    return redirect(f"{URL_NAME}:edit", pk=mailbox.pk)


class MailboxViewSet(CatalogueViewSet):
    model = Mailbox
    icon = "mail"
    menu_label = gettext_lazy("Mailboxes")
    menu_name = "helpdesk-mailboxes"
    menu_order = 590
    edit_view_class = MailboxEditView
    created_message = gettext_lazy("Mailbox “%(object)s” created.")
    updated_message = gettext_lazy("Mailbox “%(object)s” updated.")
    deleted_message = gettext_lazy("Mailbox “%(object)s” deleted.")
    list_display = ["name", "address", Column("protocol", label=gettext_lazy("How mail arrives"),
                                              accessor="get_protocol_display"),
                    Column("office", label=gettext_lazy("Office"),
                           accessor=lambda m: m.office.name if m.office_id else "—"),
                    BooleanColumn("active", label=gettext_lazy("Active")),
                    DateColumn("last_checked_at", label=gettext_lazy("Last checked")),
                    Column("last_error", label=gettext_lazy("Last error"),
                           accessor=lambda m: Truncator(m.last_error).chars(120))]
    list_filter = ["protocol", "active"]
    search_fields = ["name", "address"]
    search_backend_name = None

    def get_list_queryset(self):
        return Mailbox.objects.select_related("office")

    @property
    def edit_handler(self):
        imap = MultiFieldPanel([
            FieldRowPanel([FieldPanel("host"), FieldPanel("port")]),
            FieldPanel("security"),
            FieldRowPanel([FieldPanel("username"), FieldPanel("password")]),
            FieldPanel("clear_password"),
            FieldRowPanel([FieldPanel("folder"), FieldPanel("processed_folder")]),
        ], heading=gettext_lazy("IMAP server"), attrs={
            "data-w-rules-target": "show", "data-w-rules": '{"protocol": ["imap"]}'})
        return ObjectList([
            FieldPanel("name"), FieldPanel("address"), FieldPanel("protocol"),
            FieldPanel("office"), FieldPanel("service"), FieldPanel("certified"),
            FieldPanel("active"), imap,
        ], base_form_class=MailboxForm, attrs={
            "data-controller": "w-rules", "data-action": "change->w-rules#resolve"})

    def get_permissions_to_register(self):
        return Permission.objects.none()  # not given through groups: see the policy

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(),
                path("test/<int:pk>/", test_connection, name="test")]


mailbox_viewset = MailboxViewSet(URL_NAME, url_prefix="helpdesk/mailboxes")
