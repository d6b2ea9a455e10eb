"""Citizens: the people tickets are about. Minimal personal data, erasable."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from wagtail.search import index

from ..identity import normalise_fiscal_code, validate_fiscal_code


class FiscalCodeField(models.CharField):
    """Stores fiscal codes in one shape: normalised before validation, so
    ``TINIT-…`` or lower-case input validates and is unique as expected."""

    def to_python(self, value):
        return normalise_fiscal_code(super().to_python(value)) or None

    def get_prep_value(self, value):
        return normalise_fiscal_code(super().get_prep_value(value)) or None


class Citizen(index.Indexed, models.Model):
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    fiscal_code = FiscalCodeField(
        _("fiscal code"),
        max_length=16,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_fiscal_code],
    )
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="helpdesk_citizen",
        verbose_name=_("user account"),
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    #: How the citizen wants to be told (the personal area edits these).
    notify_email = models.BooleanField(_("notify by e-mail"), default=True)
    notify_app_io = models.BooleanField(_("notify on App IO"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)

    search_fields = [
        index.SearchField("family_name"),
        index.SearchField("given_name"),
        index.FilterField("fiscal_code"),
        index.AutocompleteField("family_name"),
    ]

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        indexes = [
            models.Index(Upper("family_name"), "given_name", name="helpdesk_citizen_name"),
            models.Index(fields=["email"], name="helpdesk_citizen_email"),
            models.Index(fields=["user"], name="helpdesk_citizen_user"),
        ]

    def __str__(self):
        return self.full_name or (self.fiscal_code or str(_("Anonymous citizen")))

    def save(self, *args, **kwargs):
        self.fiscal_code = normalise_fiscal_code(self.fiscal_code) or None
        super().save(*args, **kwargs)

    @property
    def full_name(self):
        return " ".join(p for p in (self.given_name, self.family_name) if p)


class CitizenLogin(models.Model):
    """A SPID/CIE identity — (issuer, subject), the provider's pairwise id —
    and the account it logs into. One account may have several (SPID and
    CIE) only when linking by fiscal number is allowed (see docs/spid-cie.md)."""

    issuer = models.CharField(_("identity provider"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="helpdesk_logins")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("last login"), null=True, blank=True)

    class Meta:
        verbose_name = _("SPID/CIE login")
        verbose_name_plural = _("SPID/CIE logins")
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"],
                                               name="helpdesk_login_identity")]

    def __str__(self):
        return f"{self.issuer} {self.subject[:12]}…"
