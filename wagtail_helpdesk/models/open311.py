"""The Open311 clients administrators register in the admin: each has a name
and an API key that lets it file reports through ``POST requests``.

Only a hash of the key is stored: the key is shown once, when it is made,
and cannot be read back. Deactivating a client (or deleting it) revokes its
key at once; tickets it filed stay, recorded as its own.
"""

import hashlib
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

#: Every key starts with this, so a leaked one is recognisable in logs and scans.
KEY_PREFIX = "o311_"


def hash_key(key):
    """The stored form of an API key (keys are long and random: a fast hash
    is enough, and lets the key be found by its hash)."""
    return hashlib.sha256((key or "").encode()).hexdigest()


def new_key():
    return KEY_PREFIX + secrets.token_urlsafe(32)


class Open311Client(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True,
                            help_text=_("Who uses this key, e.g. “FixMyStreet Italia”."))
    contact = models.CharField(
        _("contact"), max_length=255, blank=True,
        help_text=_("Optional. Whom to call about this integration (name, e-mail)."))
    #: The key's first characters, to tell keys apart in the list (not secret).
    key_hint = models.CharField(_("key starts with"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(
        _("active"), default=True,
        help_text=_("Untick to revoke the key at once: the client's requests are refused."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    panels = [FieldPanel("name"), FieldPanel("contact"), FieldPanel("active")]

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self):
        return self.name

    def set_key(self, key=None):
        """Give the client a new key (the old one stops working once saved);
        returns the key, which is not kept anywhere."""
        key = key or new_key()
        self.key_hash = hash_key(key)
        self.key_hint = key[:len(KEY_PREFIX) + 4]
        return key
