"""Quick replies in the admin: the "Quick replies" screens under the Helpdesk
menu, and the two views the ticket page's reply box uses.

Every view asks :mod:`wagtail_helpdesk.quickreplies` who may do what: lists are
scoped to the replies the user sees, a reply they do not see is not found
(404), one they see but may not change is refused (403). The owner of a
personal reply is always the user who saves it, never a form field.
"""

import django_filters
from django import forms
from django.contrib.admin.utils import unquote
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import linebreaks_filter
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic import WagtailAdminTemplateMixin, history, usage
from wagtail.admin.viewsets.model import ModelViewSet

from ..models import Office, QuickReply
from ..models.quickreplies import shortcut_validator
from ..quickreplies.placeholders import (
    PLACEHOLDERS,
    append_text,
    render_reply,
    unknown_placeholders,
)
from ..quickreplies.policy import (
    can_manage,
    insertable_replies,
    managed_office_ids,
    quick_reply_policy,
    visible_replies,
)
from ..tickets.queries import visible_ticket_or_404
from .tickets.detail import PAGE_RELATED, TicketDetailView
from .tickets.forms import ReplyForm
from .viewsets import MENU_HOOK, HelpdeskMessagesMixin
from .widgets import DatalistInput

PERSONAL = "personal"
OFFICE_PREFIX = "office-"


def scope_label(reply):
    return reply.office.name if reply.office_id else _("Personal")


# --- The form -------------------------------------------------------------------------


class ShortcutField(forms.CharField):
    """Accepts "/Orari " for "orari": what operators type in the reply box."""

    def to_python(self, value):
        return super().to_python(value).strip().lstrip("/").lower()


def _placeholder_help():
    names = ", ".join(f"{{{name}}} ({label})" for name, label in PLACEHOLDERS.items())
    return _("Placeholders, filled in for the ticket when the reply is inserted: %(names)s.") % {
        "names": names}


class QuickReplyForm(WagtailAdminModelForm):
    """Title, shortcut, category, text and where the reply belongs (``scope``):
    personal, or one of the offices the user manages."""

    scope = forms.ChoiceField(label=gettext_lazy("Available to"))
    shortcut = ShortcutField(
        label=gettext_lazy("Shortcut"), max_length=30, validators=[shortcut_validator],
        help_text=gettext_lazy("A short word: type “/” and the word in the reply box to "
                               "insert the reply (e.g. “orari”)."),
    )

    class Meta:
        model = QuickReply
        fields = ["scope", "title", "shortcut", "category", "body", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        managed = managed_office_ids(user)
        offices = Office.objects.all() if managed is None else Office.objects.filter(
            pk__in=managed)
        offices = offices.filter(Q(active=True) | Q(pk=self.instance.office_id))
        self.offices = {f"{OFFICE_PREFIX}{office.pk}": office for office in offices}
        choices = [(PERSONAL, _("Only me (personal)"))]
        choices += [(key, _("Everyone in %(office)s") % {"office": office.name})
                    for key, office in self.offices.items()]
        scope = self.fields["scope"]
        scope.choices = choices
        if self.instance.office_id:
            scope.initial = f"{OFFICE_PREFIX}{self.instance.office_id}"
        else:
            scope.initial = PERSONAL
        if len(choices) == 1:
            scope.help_text = _("Supervisors add the replies shared by their offices.")
        else:
            scope.help_text = _("Everyone in the office can insert a shared reply; only its "
                                "supervisors change it.")
        categories = (visible_replies(user).exclude(category="").order_by("category")
                      .values_list("category", flat=True).distinct())
        self.fields["category"].widget = DatalistInput(options=categories)
        self.fields["body"].help_text = _placeholder_help()

    def clean_body(self):
        body = self.cleaned_data["body"]
        unknown = unknown_placeholders(body)
        if unknown:
            raise forms.ValidationError(
                _("Unknown placeholder: %(names)s. Use: %(known)s.") % {
                    "names": ", ".join(f"{{{name}}}" for name in unknown),
                    "known": ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)})
        return body

    def clean(self):
        cleaned = super().clean()
        scope = cleaned.get("scope")
        if not scope:
            return cleaned
        # The owner comes from the request, never from the form.
        if scope == PERSONAL:
            self.instance.owner, self.instance.office = self.for_user, None
            same_scope = {"owner": self.for_user}
        else:
            self.instance.owner, self.instance.office = None, self.offices[scope]
            same_scope = {"office": self.offices[scope]}
        shortcut = cleaned.get("shortcut")
        if shortcut and QuickReply.objects.filter(shortcut=shortcut, **same_scope).exclude(
                pk=self.instance.pk).exists():
            self.add_error("shortcut", _("Another reply available to the same people already "
                                         "uses this shortcut."))
        return cleaned


# --- Views ----------------------------------------------------------------------------


class QuickReplyFilterSet(WagtailFilterSet):
    scope = django_filters.ChoiceFilter(
        label=gettext_lazy("Available to"), method="filter_scope", empty_label=gettext_lazy("All"),
        choices=[("personal", gettext_lazy("Only me (personal)")),
                 ("office", gettext_lazy("An office (shared)"))],
    )
    office = django_filters.ModelChoiceFilter(label=gettext_lazy("Office"),
                                              queryset=Office.objects.none())
    category = django_filters.ChoiceFilter(label=gettext_lazy("Category"),
                                           empty_label=gettext_lazy("All"))
    active = django_filters.BooleanFilter(label=gettext_lazy("Active"))

    class Meta:
        model = QuickReply
        fields = []

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        user = request.user
        visible = visible_replies(user)
        self.filters["office"].queryset = Office.objects.filter(
            pk__in=visible.filter(office__isnull=False).values("office_id"))
        self.filters["category"].extra["choices"] = [
            (c, c) for c in visible.exclude(category="").order_by("category")
            .values_list("category", flat=True).distinct()
        ]

    def filter_scope(self, queryset, name, value):
        if value == "personal":
            return queryset.filter(owner__isnull=False)
        if value == "office":
            return queryset.filter(office__isnull=False)
        return queryset


class PolicyMixin:
    """The quick-reply policy, even before (or without) its registration."""

    @cached_property
    def permission_policy(self):
        return quick_reply_policy()


class QuickReplyObjectMixin(PolicyMixin):
    """Finds the reply among those the user sees (404 otherwise) and, for
    views that change it, refuses one they may not change (403)."""

    manages = True

    def get_object(self, queryset=None):
        if getattr(self, "_reply", None) is None:
            pk = unquote(str(self.kwargs.get(self.pk_url_kwarg, "")))
            self._reply = get_object_or_404(
                visible_replies(self.request.user).select_related("office"), pk=pk)
        return self._reply

    def dispatch(self, request, *args, **kwargs):
        reply = self.get_object()
        if self.manages and not can_manage(request.user, reply):
            return QuickReplyForbiddenView.as_view()(request, reply=reply)
        return super().dispatch(request, *args, **kwargs)


class QuickReplyForbiddenView(WagtailAdminTemplateMixin, TemplateView):
    """403 with the reason and the way back (Wagtail would redirect to the dashboard)."""

    template_name = "wagtail_helpdesk/admin/includes/quickreply_forbidden.html"
    page_title = gettext_lazy("Quick replies")
    header_icon = "comment"

    def render_to_response(self, context, **kwargs):
        return super().render_to_response(context, status=403, **kwargs)

    def post(self, request, *args, **kwargs):
        return self.get(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.kwargs["reply"].title

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(f"{quick_reply_viewset.name}:index"), "label": self.page_title},
            {"url": "", "label": self.get_page_subtitle()},
        ]

    def get_context_data(self, **kwargs):
        reply = self.kwargs["reply"]
        context = super().get_context_data(**kwargs)
        context.update(
            reply=reply,
            index_url=reverse(f"{quick_reply_viewset.name}:index"),
            inspect_url=reverse(f"{quick_reply_viewset.name}:inspect", args=[reply.pk]),
        )
        return context


class QuickReplyIndexView(PolicyMixin, generic.IndexView):
    filterset_class = QuickReplyFilterSet
    search_fields = ["title", "shortcut", "category", "body"]
    search_backend_name = None
    default_ordering = "title"

    def get_base_queryset(self):
        return visible_replies(self.request.user).select_related("office")

    def get_edit_url(self, instance):
        if can_manage(self.request.user, instance):
            return super().get_edit_url(instance)

    def get_delete_url(self, instance):
        if can_manage(self.request.user, instance):
            return super().get_delete_url(instance)


class QuickReplyCreateView(PolicyMixin, generic.CreateView):
    pass


class QuickReplyEditView(QuickReplyObjectMixin, generic.EditView):
    pass


class QuickReplyDeleteView(QuickReplyObjectMixin, generic.DeleteView):
    # DeleteView loads the reply in setup(): one the user does not see is a 404
    # there; dispatch() then refuses one they may not delete.
    pass


class QuickReplyHistoryView(QuickReplyObjectMixin, history.HistoryView):
    manages = False


class QuickReplyUsageView(QuickReplyObjectMixin, usage.UsageView):
    pass


class QuickReplyInspectView(QuickReplyObjectMixin, generic.InspectView):
    manages = False

    def get_field_label(self, field_name, field):
        if field_name == "scope":
            return _("Available to")
        return super().get_field_label(field_name, field)

    def get_scope_display_value(self):
        return scope_label(self.object)

    def get_shortcut_display_value(self):
        return f"/{self.object.shortcut}"

    def get_body_display_value(self):
        return linebreaks_filter(self.object.body, autoescape=True)

    def get_active_display_value(self):
        return _("Yes") if self.object.active else _("No")

    def get_edit_url(self):
        if can_manage(self.request.user, self.object):
            return super().get_edit_url()

    def get_delete_url(self):
        if can_manage(self.request.user, self.object):
            return super().get_delete_url()


# --- The reply box's views --------------------------------------------------------------


def _ticket_and_reply(request, ticket_pk, reply_pk):
    ticket = visible_ticket_or_404(request.user, ticket_pk, related=PAGE_RELATED)
    reply = insertable_replies(request.user, ticket).filter(pk=reply_pk).first()
    return ticket, reply


@require_safe
def render_for_ticket(request, ticket_pk, reply_pk):
    """JSON: the quick reply's text filled in for the ticket (for the reply box's
    script). Only the user's insertable replies, only on tickets they see."""
    ticket, reply = _ticket_and_reply(request, ticket_pk, reply_pk)
    if reply is None:
        raise Http404
    response = JsonResponse({
        "id": reply.pk, "title": reply.title, "shortcut": reply.shortcut,
        "text": render_reply(reply, ticket, request.user),
    })
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def insert_into_reply(request, ticket_pk):
    """Without JavaScript: the reply form was sent here by its "Insert" button.
    The page comes back with the chosen reply appended to what was typed."""
    try:
        reply_pk = int(request.POST.get("quick_reply") or 0)
    except ValueError:
        reply_pk = 0
    ticket, reply = _ticket_and_reply(request, ticket_pk, reply_pk)
    data = request.POST.copy()
    for key in ("quick_reply", "insert_quick_reply"):
        data.pop(key, None)
    if reply is None:
        messages.error(request, _("Choose one of your quick replies to insert."))
    else:
        data["body"] = append_text(data.get("body", ""),
                                   render_reply(reply, ticket, request.user))
        messages.info(request, _("“%(title)s” was added to your reply: check it and send it.")
                      % {"title": reply.title})
    form = ReplyForm(data, ticket=ticket, user=request.user)
    return TicketDetailView.render_page(request, ticket, bound_form=form,
                                        files_dropped=bool(request.FILES))


# --- The viewset ------------------------------------------------------------------------


class QuickReplyViewSet(HelpdeskMessagesMixin, ModelViewSet):
    model = QuickReply
    icon = "comment"
    created_message = gettext_lazy("Quick reply “%(object)s” created.")
    updated_message = gettext_lazy("Quick reply “%(object)s” updated.")
    deleted_message = gettext_lazy("Quick reply “%(object)s” deleted.")
    menu_label = gettext_lazy("Quick replies")
    menu_name = "helpdesk-quick-replies"
    menu_order = 300
    menu_hook = MENU_HOOK
    add_to_admin_menu = False
    copy_view_enabled = False
    inspect_view_enabled = True
    list_per_page = 50
    inspect_view_fields = ["title", "shortcut", "category", "scope", "body", "active",
                           "updated_at"]
    index_view_class = QuickReplyIndexView
    add_view_class = QuickReplyCreateView
    edit_view_class = QuickReplyEditView
    delete_view_class = QuickReplyDeleteView
    inspect_view_class = QuickReplyInspectView
    history_view_class = QuickReplyHistoryView
    usage_view_class = QuickReplyUsageView
    list_display = [
        "title",
        Column("shortcut", label=gettext_lazy("Shortcut"), accessor=lambda r: f"/{r.shortcut}"),
        "category",
        Column("scope", label=gettext_lazy("Available to"), accessor=scope_label),
        BooleanColumn("active", label=gettext_lazy("Active")),
        DateColumn("updated_at", label=gettext_lazy("Updated")),
    ]
    edit_handler = ObjectList([
        FieldPanel("scope"), FieldPanel("title"), FieldPanel("shortcut"),
        FieldPanel("category"), FieldPanel("body"), FieldPanel("active"),
    ], base_form_class=QuickReplyForm)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("render/<int:ticket_pk>/<int:reply_pk>/", render_for_ticket, name="render"),
            path("insert/<int:ticket_pk>/", insert_into_reply, name="insert"),
        ]


quick_reply_viewset = QuickReplyViewSet("helpdesk_quick_replies",
                                        url_prefix="helpdesk/quick-replies")
