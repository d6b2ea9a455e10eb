"""Quick replies (risposte rapide): texts an operator inserts in a reply.

A quick reply is either *personal* (``owner`` set: only its owner sees and
changes it) or *office-wide* (``office`` set: every member of the office sees
it; supervisors of the office and helpdesk administrators change it). Exactly
one of the two is set (a database constraint). Who may do what lives in
:mod:`wagtail_helpdesk.quickreplies`; the placeholders of the body too.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .catalogue import Office

shortcut_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*\Z",
    _("Use lowercase letters, digits, hyphens and underscores only, without spaces."),
)


class QuickReplyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def personal(self):
        return self.filter(owner__isnull=False)

    def office_wide(self):
        return self.filter(office__isnull=False)


class QuickReply(models.Model):
    title = models.CharField(_("title"), max_length=120)
    shortcut = models.CharField(
        _("shortcut"),
        max_length=30,
        validators=[shortcut_validator],
        help_text=_("A short word: type “/” and the word in the reply box to insert the "
                    "reply (e.g. “orari”)."),
    )
    category = models.CharField(
        _("category"), max_length=80, blank=True,
        help_text=_("Optional: groups the replies and narrows the search."),
    )
    body = models.TextField(_("text"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
        related_name="helpdesk_quick_replies", verbose_name=_("owner"),
    )
    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, null=True, blank=True,
        related_name="quick_replies", verbose_name=_("office"),
    )
    active = models.BooleanField(
        _("active"), default=True,
        help_text=_("Inactive replies are not offered in the reply box."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = QuickReplyQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("quick reply")
        verbose_name_plural = _("quick replies")
        constraints = [
            models.CheckConstraint(
                condition=(Q(owner__isnull=False, office__isnull=True)
                           | Q(owner__isnull=True, office__isnull=False)),
                name="helpdesk_quickreply_owner_xor_office",
                violation_error_message=_("A quick reply is either personal or of an office."),
            ),
            # Both also serve the "replies of this user / of these offices" lookups.
            models.UniqueConstraint(fields=["owner", "shortcut"],
                                    name="helpdesk_quickreply_owner_shortcut"),
            models.UniqueConstraint(fields=["office", "shortcut"],
                                    name="helpdesk_quickreply_office_shortcut"),
        ]
        indexes = [models.Index(fields=["category"], name="helpdesk_quickreply_category")]

    def __str__(self):
        return self.title

    @property
    def is_personal(self):
        return self.owner_id is not None
