"""Per-site settings of the help desk, edited in Settings → Helpdesk."""

import swapper
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

prefix_validator = RegexValidator(
    r"^[A-Z0-9]{1,8}$", _("Use 1 to 8 capital letters or digits, e.g. AST."), "prefix"
)


class ShortCodeMode(models.TextChoices):
    OFF = "off", _("Off: tickets are known by their number")
    SEQUENTIAL = "sequential", _("Sequential per kind and year, with a prefix (AST-2026-000042)")
    RANDOM = "random", _("Random, 8 characters (K7QM4XPB)")


@register_setting(icon="comment")
class HelpdeskSettings(BaseSiteSetting):
    short_code_mode = models.CharField(
        _("short code"), max_length=12, choices=ShortCodeMode.choices,
        default=ShortCodeMode.SEQUENTIAL,
        help_text=_("The code citizens and operators use to find a ticket."),
    )
    request_prefix = models.CharField(
        _("prefix of assistance requests"), max_length=8, default="AST",
        validators=[prefix_validator],
    )
    report_prefix = models.CharField(_("prefix of reports"), max_length=8, default="SEG",
                                     validators=[prefix_validator])
    privacy_page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+", verbose_name=_("privacy policy page"),
    )
    sender_name = models.CharField(
        _("sender name"), max_length=100, blank=True,
        help_text=_("Shown as the sender of e-mails to citizens, e.g. “Comune di Esempio”."),
    )
    sender_email = models.EmailField(_("sender address"), blank=True)
    reopen_window_days = models.PositiveSmallIntegerField(
        _("reopen window (days)"), default=30,
        help_text=_("Days after resolution in which a citizen's reply reactivates the ticket."),
    )
    operator_figures = models.BooleanField(
        _("show each operator's figures to supervisors"), default=False,
        help_text=_("Supervisors always see their offices' figures. Switch this on only where "
                    "the municipality's agreements allow it: Italian labour law (art. 4 of "
                    "the Workers' Statute) restricts the monitoring of individual workers."),
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("short_code_mode"), FieldPanel("request_prefix"), FieldPanel("report_prefix")],
            heading=_("Short codes"),
        ),
        MultiFieldPanel([FieldPanel("sender_name"), FieldPanel("sender_email")], heading=_("E-mail")),
        FieldPanel("privacy_page"),
        FieldPanel("reopen_window_days"),
        FieldPanel("operator_figures"),
    ]

    class Meta:
        verbose_name = _("Helpdesk")

    def clean(self):
        super().clean()
        if self.request_prefix and self.request_prefix == self.report_prefix:
            raise ValidationError(
                {"report_prefix": _("Use a prefix different from the one of assistance requests.")}
            )
