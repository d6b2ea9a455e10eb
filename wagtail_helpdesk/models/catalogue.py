"""The catalogue editors manage: offices, services, report categories and
resolution types. Tickets point at these; none of them is ever deleted while a
ticket uses it (``PROTECT``): deactivate instead.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.search import index


class ActiveQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class ChatRouting(models.TextChoices):
    OFFER = "offer", _("Offered to every available operator")
    ROUND_ROBIN = "round_robin", _("Automatic, in turn (round robin)")
    LEAST_BUSY = "least_busy", _("Automatic, to the least busy operator")


class Office(index.Indexed, models.Model):
    """An office (ufficio) that owns tickets; its members are the operators."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    slug = models.SlugField(_("slug"), max_length=150, unique=True)
    email = models.EmailField(
        _("e-mail address"),
        blank=True,
        help_text=_("The office's own mailbox; it receives new-ticket alerts."),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="OfficeMembership",
        related_name="helpdesk_offices",
        blank=True,
        verbose_name=_("members"),
        help_text=_("Operators and supervisors who work this office's tickets."),
    )
    auto_assign = models.BooleanField(
        _("assign new tickets automatically"),
        default=False,
        help_text=_(
            "Hand each new ticket in turn to a member who is available (round robin). "
            "When nobody is available the ticket waits in the queue."
        ),
    )
    chat_routing = models.CharField(
        _("live chat routing"), max_length=12, choices=ChatRouting.choices,
        default=ChatRouting.OFFER,
        help_text=_(
            "How waiting conversations reach this office's operators: offered to every "
            "available operator (the first to accept takes it), or handed automatically to "
            "an available operator with a free place, in turn or to the least busy."
        ),
    )
    open_labels = models.BooleanField(
        _("operators may create labels"),
        default=False,
        help_text=_(
            "Let this office's operators type new labels on its tickets. Otherwise they "
            "choose among the office's labels and the global ones."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    objects = ActiveQuerySet.as_manager()

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        MultiFieldPanel([FieldPanel("email"), FieldPanel("phone")], heading=_("Contacts")),
        FieldPanel("members"),
        FieldPanel("auto_assign"),
        FieldPanel("chat_routing"),
        FieldPanel("open_labels"),
        FieldPanel("active"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self):
        return self.name


class OfficeMembership(models.Model):
    """A user working in an office (room for per-office roles and presence)."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    #: When automatic assignment last handed this member a ticket (round robin).
    last_auto_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: When a conversation of this office was last handed to this member
    #: (the turn of the chat's round robin).
    last_chat_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("office membership")
        verbose_name_plural = _("office memberships")
        constraints = [
            models.UniqueConstraint(fields=["office", "user"], name="helpdesk_membership_unique"),
        ]
        indexes = [models.Index(fields=["user", "office"], name="helpdesk_membership_user")]

    def __str__(self):
        return f"{self.user} @ {self.office}"


class ServiceCategory(models.Model):
    """One of the Designers Italia service categories (editable)."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    slug = models.SlugField(_("slug"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = ActiveQuerySet.as_manager()

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description"),
              FieldPanel("sort_order"), FieldPanel("active")]

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")

    def __str__(self):
        return self.name


class SLAMixin(models.Model):
    sla_days = models.PositiveSmallIntegerField(
        _("SLA (working days)"),
        null=True,
        blank=True,
        help_text=_("Working days to resolve a ticket; empty means no deadline."),
    )

    class Meta:
        abstract = True


class Service(index.Indexed, SLAMixin):
    """A service or topic (servizio/argomento) citizens ask assistance about."""

    category = models.ForeignKey(
        ServiceCategory, on_delete=models.PROTECT, related_name="services",
        verbose_name=_("category"),
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="services",
        verbose_name=_("responsible office"),
    )
    #: The App IO service's API key (its messages are sent as this service);
    #: write-only in the admin. Empty: WAGTAIL_HELPDESK_APP_IO_API_KEY, if set.
    io_api_key = models.CharField(
        _("App IO API key"), max_length=100, blank=True,
        help_text=_("Optional. The key of the municipality's App IO service for this "
                    "service's messages; once saved it is never shown again."))
    active = models.BooleanField(_("active"), default=True)

    objects = ActiveQuerySet.as_manager()

    panels = [
        FieldPanel("category"), FieldPanel("name"), FieldPanel("slug"),
        FieldPanel("description"), FieldPanel("office"), FieldPanel("sla_days"),
        FieldPanel("active"),
    ]  # the App IO key is edited only through the admin's ServiceForm (write-only)
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["category__sort_order", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="helpdesk_service_unique_name"),
        ]

    def __str__(self):
        return self.name


class ReportCategory(index.Indexed, SLAMixin):
    """A kind of problem on the territory (tipo di disservizio)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="report_categories",
        verbose_name=_("responsible office"),
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    open_data = models.BooleanField(
        _("in the open data"), default=False,
        help_text=_("Publish this type's reports in the open data, when it is switched on in "
                    "Settings → Open data. Leave it off for problems whose place alone says "
                    "too much about a person."),
    )

    objects = ActiveQuerySet.as_manager()

    panels = [
        FieldPanel("name"), FieldPanel("slug"), FieldPanel("description"),
        FieldPanel("office"), FieldPanel("sla_days"), FieldPanel("sort_order"),
        FieldPanel("open_data"), FieldPanel("active"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("report category")
        verbose_name_plural = _("report categories")

    def __str__(self):
        return self.name


class ResolutionType(models.Model):
    """How a ticket ended (Risolta, Non di competenza, Duplicata…)."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    slug = models.SlugField(_("slug"), max_length=150, unique=True)
    counts_as_solved = models.BooleanField(
        _("counts as solved"),
        default=True,
        help_text=_("Whether tickets closed this way count as solved in the statistics."),
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = ActiveQuerySet.as_manager()

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("counts_as_solved"),
              FieldPanel("sort_order"), FieldPanel("active")]

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("resolution type")
        verbose_name_plural = _("resolution types")

    def __str__(self):
        return self.name
