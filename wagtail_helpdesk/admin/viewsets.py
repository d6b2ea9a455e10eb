"""Viewsets of the catalogue editors manage, grouped under the Helpdesk menu."""

from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from ..models import (
    IdentityProvider,
    Office,
    ReportCategory,
    ResolutionType,
    Service,
    ServiceCategory,
    TrustMark,
)

#: Other parts of the app (and host projects) add menu items to the group through this hook.
MENU_HOOK = "register_helpdesk_menu_item"

#: A create or edit form with errors. No model name in it, so that every
#: language can say it without agreeing with one.
FORM_ERROR_MESSAGE = _("Nothing was saved: correct the errors below.")


class HelpdeskMessagesMixin:
    """The add, edit and delete views' messages in the app's own words.

    Wagtail's generic "%(model_name)s '%(object)s' created." cannot be right in
    Italian, where the participle agrees with the model ("Risposta rapida …
    creato"): each viewset names its messages (``%(object)s`` is the object).
    """

    created_message = None
    updated_message = None
    deleted_message = None

    @staticmethod
    def _success(message):
        return {} if message is None else {"success_message": message}

    def get_add_view_kwargs(self, **kwargs):
        return super().get_add_view_kwargs(
            **self._success(self.created_message), error_message=FORM_ERROR_MESSAGE, **kwargs)

    def get_edit_view_kwargs(self, **kwargs):
        return super().get_edit_view_kwargs(
            **self._success(self.updated_message), error_message=FORM_ERROR_MESSAGE, **kwargs)

    def get_delete_view_kwargs(self, **kwargs):
        return super().get_delete_view_kwargs(**self._success(self.deleted_message), **kwargs)


class CatalogueViewSet(HelpdeskMessagesMixin, ModelViewSet):
    menu_hook = MENU_HOOK
    add_to_admin_menu = False
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_list_queryset(self):
        """The listing's queryset, with what its columns need joined in."""
        return self.model._default_manager.all()

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(queryset=self.get_list_queryset(), **kwargs)


class OfficeViewSet(CatalogueViewSet):
    model = Office
    icon = "group"
    menu_label = _("Offices")
    menu_order = 500
    created_message = _("Office “%(object)s” created.")
    updated_message = _("Office “%(object)s” updated.")
    deleted_message = _("Office “%(object)s” deleted.")
    list_display = ["name", "email", Column("member_count", label=_("Members"),
                                            accessor="member_count"),
                    BooleanColumn("active", label=_("Active"))]
    list_filter = ["active"]
    search_fields = ["name"]

    def get_list_queryset(self):
        return Office.objects.annotate(member_count=Count("memberships"))

    @property
    def edit_handler(self):
        from wagtail.admin.panels import ObjectList

        from .office_form import OfficeForm

        return ObjectList(Office.panels, base_form_class=OfficeForm)


class ServiceCategoryViewSet(CatalogueViewSet):
    model = ServiceCategory
    icon = "folder-open-inverse"
    menu_label = _("Service categories")
    menu_order = 510
    created_message = _("Service category “%(object)s” created.")
    updated_message = _("Service category “%(object)s” updated.")
    deleted_message = _("Service category “%(object)s” deleted.")
    list_display = ["name", "sort_order", BooleanColumn("active", label=_("Active"))]
    list_filter = ["active"]
    search_fields = ["name"]


class ServiceViewSet(CatalogueViewSet):
    model = Service
    icon = "list-ul"
    menu_label = _("Services")
    menu_order = 520
    created_message = _("Service “%(object)s” created.")
    updated_message = _("Service “%(object)s” updated.")
    deleted_message = _("Service “%(object)s” deleted.")
    list_display = ["name", "category", "office", "sla_days", BooleanColumn("active", label=_("Active"))]
    list_filter = ["category", "office", "active"]
    search_fields = ["name"]

    def get_list_queryset(self):
        return Service.objects.select_related("category", "office")

    @property
    def edit_handler(self):
        from wagtail.admin.panels import FieldPanel, ObjectList

        from .service_form import ServiceForm

        return ObjectList([*Service.panels, FieldPanel("io_api_key"),
                           FieldPanel("remove_io_api_key")],
                          base_form_class=ServiceForm)


class ReportCategoryViewSet(CatalogueViewSet):
    model = ReportCategory
    icon = "warning"
    menu_label = _("Report categories")
    menu_order = 530
    created_message = _("Report category “%(object)s” created.")
    updated_message = _("Report category “%(object)s” updated.")
    deleted_message = _("Report category “%(object)s” deleted.")
    list_display = ["name", "office", "sla_days", BooleanColumn("active", label=_("Active"))]
    list_filter = ["office", "active"]
    search_fields = ["name"]

    def get_list_queryset(self):
        return ReportCategory.objects.select_related("office")


class ResolutionTypeViewSet(CatalogueViewSet):
    model = ResolutionType
    icon = "tick-inverse"
    menu_label = _("Resolution types")
    menu_order = 540
    created_message = _("Resolution type “%(object)s” created.")
    updated_message = _("Resolution type “%(object)s” updated.")
    deleted_message = _("Resolution type “%(object)s” deleted.")
    list_display = ["name", BooleanColumn("counts_as_solved", label=_("Counts as solved")),
                    BooleanColumn("active", label=_("Active"))]
    list_filter = ["active", "counts_as_solved"]


class IdentityProviderViewSet(CatalogueViewSet):
    model = IdentityProvider
    icon = "key"
    menu_label = _("SPID/CIE providers")
    menu_order = 560
    created_message = _("SPID/CIE provider “%(object)s” created.")
    updated_message = _("SPID/CIE provider “%(object)s” updated.")
    deleted_message = _("SPID/CIE provider “%(object)s” deleted.")
    list_display = ["name", "entity_id", "profile", "sort_order",
                    BooleanColumn("active", label=_("Active"))]
    list_filter = ["profile", "active"]


class TrustMarkViewSet(CatalogueViewSet):
    model = TrustMark
    icon = "success"
    menu_label = _("Trust marks")
    menu_order = 570
    created_message = _("Trust mark “%(object)s” created.")
    updated_message = _("Trust mark “%(object)s” updated.")
    deleted_message = _("Trust mark “%(object)s” deleted.")
    list_display = ["mark_id", "subject", "expires_at", BooleanColumn("active", label=_("Active"))]
    list_filter = ["active"]


class HelpdeskViewSetGroup(ViewSetGroup):
    menu_label = _("Helpdesk")
    # Not "helpdesk": the sidebar opens submenus by name prefix, and Wagtail's
    # own Help menu is called "help".
    menu_name = "wagtail-helpdesk"
    menu_icon = "comment"
    menu_order = 150
    submenu_hook = MENU_HOOK
    items = ()

    def get_menu_item(self, order=None):
        from wagtail.admin.menu import Menu

        from .attention import HelpdeskMenuItem

        return HelpdeskMenuItem(
            label=self.menu_label,
            menu=Menu(register_hook_name=self.submenu_hook, items=self.get_submenu_items()),
            name=self.menu_name,
            icon_name=self.menu_icon,
            order=self.get_menu_item_order(order),
        )


catalogue_viewsets = [
    OfficeViewSet("helpdesk_offices", url_prefix="helpdesk/offices"),
    ServiceCategoryViewSet("helpdesk_service_categories", url_prefix="helpdesk/service-categories"),
    ServiceViewSet("helpdesk_services", url_prefix="helpdesk/services"),
    ReportCategoryViewSet("helpdesk_report_categories", url_prefix="helpdesk/report-categories"),
    ResolutionTypeViewSet("helpdesk_resolution_types", url_prefix="helpdesk/resolution-types"),
    IdentityProviderViewSet("helpdesk_identity_providers", url_prefix="helpdesk/spid-cie"),
    TrustMarkViewSet("helpdesk_trust_marks", url_prefix="helpdesk/trust-marks"),
]
