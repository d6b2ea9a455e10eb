"""The public, anonymised dataset of territorial reports (open data), switched
on by an administrator in Settings → Open data. What goes in it is decided by
:mod:`wagtail_helpdesk.opendata`: category, status, dates, office and a place
rounded to a grid; never text or personal data."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


class Licence(models.TextChoices):
    CC_BY_4 = "CC-BY-4.0", _("Creative Commons Attribution 4.0 (CC BY 4.0)")
    CC0 = "CC0-1.0", _("Creative Commons Zero 1.0 (CC0)")
    IODL_2 = "IODL-2.0", _("Italian Open Data Licence 2.0 (IODL 2.0)")


@register_setting(icon="table")
class OpenDataSettings(BaseSiteSetting):
    enabled = models.BooleanField(
        _("publish the reports as open data"), default=False,
        help_text=_("Publish an anonymised dataset of the reports (category, status, dates, "
                    "office and a place rounded to the grid below; never text or personal "
                    "data) as CSV and GeoJSON, with its DCAT-AP_IT description."),
    )
    licence = models.CharField(_("licence"), max_length=12, choices=Licence.choices,
                               default=Licence.CC_BY_4)
    grid_metres = models.PositiveIntegerField(
        _("grid (metres)"), default=100,
        validators=[MinValueValidator(50), MaxValueValidator(5000)],
        help_text=_("Places are moved to the centre of a square of this side, so that no "
                    "report points at a house."),
    )
    delay_days = models.PositiveSmallIntegerField(
        _("delay (days)"), default=1, validators=[MaxValueValidator(365)],
        help_text=_("Reports appear in the dataset only this many days after they were "
                    "received."),
    )
    title = models.CharField(_("title"), max_length=200, blank=True,
                             help_text=_("Empty: “Segnalazioni dei cittadini”."))
    description = models.TextField(_("description"), blank=True)
    publisher_name = models.CharField(
        _("publisher"), max_length=200, blank=True,
        help_text=_("The municipality's name, e.g. “Comune di Esempio”."),
    )
    publisher_ipa = models.CharField(
        _("IPA code of the publisher"), max_length=20, blank=True,
        help_text=_("The municipality's code in the IPA index (indicepa.gov.it), e.g. c_a944."),
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)

    panels = [
        FieldPanel("enabled"),
        MultiFieldPanel([FieldPanel("licence"), FieldPanel("grid_metres"),
                         FieldPanel("delay_days")], heading=_("What is published")),
        MultiFieldPanel([FieldPanel("title"), FieldPanel("description"),
                         FieldPanel("publisher_name"), FieldPanel("publisher_ipa"),
                         FieldPanel("contact_email")],
                        heading=_("Description for the open-data catalogue (DCAT-AP_IT)")),
    ]

    class Meta:
        verbose_name = _("Open data")
