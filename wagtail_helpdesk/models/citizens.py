"""Citizens: the people tickets are about. Minimal personal data, erasable."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from ..fiscalcode import normalise_fiscal_code, validate_fiscal_code


class FiscalCodeField(models.CharField):
    """Stores fiscal codes in one shape: normalised before validation, so
    ``TINIT-…`` or lower-case input validates and is unique as expected."""

    def to_python(self, value):
        return normalise_fiscal_code(super().to_python(value)) or None

    def get_prep_value(self, value):
        return normalise_fiscal_code(super().get_prep_value(value)) or None


class Citizen(models.Model):
    """A person tickets are about.

    A *verified* record (``declared`` false) was registered by an operator or
    by a SPID/CIE login: only it holds a ``fiscal_code`` and may be found by
    it, completed, or linked to an account. A *declared* record holds what
    somebody typed (a website form, an Open311 POST, an API call): it belongs
    to the ticket it came with, its fiscal code is only a claim
    (``declared_fiscal_code``), and nothing ever looks it up or attaches to it.
    """

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
    #: What a declared identity gave as its fiscal code: never unique, never
    #: looked up to attach anything (see the class docstring).
    declared_fiscal_code = models.CharField(_("declared fiscal code"), max_length=16,
                                            blank=True)
    declared = models.BooleanField(
        _("declared, not verified"), default=False, editable=False,
        help_text=_("Typed by whoever sent the ticket: not checked by SPID/CIE or an operator."),
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

    # Not in Wagtail's search index: the operators' search has its own
    # indexes (tickets/search.py, migration 0024), and a copy of every
    # citizen's name in another table is personal data to keep in step and a
    # write on every web submission (docs/scale.md).

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        indexes = [
            models.Index(Upper("family_name"), "given_name", name="helpdesk_citizen_name"),
            models.Index(fields=["email"], name="helpdesk_citizen_email"),
            models.Index(fields=["user"], name="helpdesk_citizen_user"),
            models.Index(fields=["declared_fiscal_code"], name="helpdesk_citizen_declared_fc"),
        ]

    def __str__(self):
        return self.full_name or (self.fiscal_code or str(_("Anonymous citizen")))

    def save(self, *args, **kwargs):
        self.fiscal_code = normalise_fiscal_code(self.fiscal_code) or None
        if self.declared and self.fiscal_code:
            raise ValueError("a declared citizen record never holds a fiscal_code")
        super().save(*args, **kwargs)

    @property
    def shown_fiscal_code(self):
        """The fiscal code to show on this record: the verified one, or the claim."""
        return self.fiscal_code or self.declared_fiscal_code

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
