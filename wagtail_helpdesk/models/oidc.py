"""SPID/CIE configuration an administrator keeps in the admin (besides the
settings): the identity providers offered on the login page, and the trust
marks received at onboarding, published in our Entity Configuration."""

import base64
import json

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel


class ProviderProfile(models.TextChoices):
    SPID = "spid", _("SPID identity provider")
    CIE = "cie", _("CIE")


class IdentityProvider(models.Model):
    name = models.CharField(_("name"), max_length=100,
                            help_text=_("As citizens know it, e.g. “Poste ID”."))
    entity_id = models.URLField(_("entity id"), max_length=255, unique=True,
                                help_text=_("The provider's id in the SPID/CIE federation."))
    profile = models.CharField(_("kind"), max_length=10, choices=ProviderProfile.choices,
                               default=ProviderProfile.SPID)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    panels = [FieldPanel("name"), FieldPanel("entity_id"), FieldPanel("profile"),
              FieldPanel("sort_order"), FieldPanel("active")]

    class Meta:
        ordering = ["profile", "sort_order", "name"]
        verbose_name = _("SPID/CIE identity provider")
        verbose_name_plural = _("SPID/CIE identity providers")

    def __str__(self):
        return self.name


def trust_mark_claims(token):
    """The payload of a trust mark JWT (not verified: the federation's
    providers verify it; this only reads what it says), or ValidationError."""
    parts = (token or "").strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise ValidationError(_("Paste the whole trust mark: three parts separated by dots."))
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(_("This is not a trust mark (its content is unreadable).")) from exc
    if not isinstance(claims, dict) or not (claims.get("id") or claims.get("trust_mark_type")):
        raise ValidationError(_("This is not a trust mark: it names no trust mark type."))
    return claims


class TrustMark(models.Model):
    token = models.TextField(_("trust mark"), help_text=_(
        "The trust mark JWT received at onboarding in the federation."))
    mark_id = models.CharField(_("type"), max_length=255, editable=False)
    subject = models.CharField(_("issued to"), max_length=255, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, editable=False)
    active = models.BooleanField(_("active"), default=True)

    panels = [FieldPanel("token"), FieldPanel("active")]

    class Meta:
        verbose_name = _("trust mark")
        verbose_name_plural = _("trust marks")

    def __str__(self):
        return self.mark_id

    def clean(self):
        from datetime import UTC, datetime

        claims = trust_mark_claims(self.token)
        self.token = self.token.strip()
        self.mark_id = claims.get("id") or claims.get("trust_mark_type")
        self.subject = str(claims.get("sub", ""))
        self.expires_at = (datetime.fromtimestamp(claims["exp"], tz=UTC)
                           if isinstance(claims.get("exp"), int | float) else None)

    def as_claim(self):
        return {"id": self.mark_id, "trust_mark": self.token}
