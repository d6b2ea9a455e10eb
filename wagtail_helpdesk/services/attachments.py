"""Storing attachments as part of a ticket change."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..attachments import check_upload
from ..conf import get_setting
from ..errors import GuardFailed
from ..models import Attachment, Visibility
from .actors import CitizenActor, actor_user


def check_uploads(uploads):
    """Check every upload before anything is written; one bad file refuses all."""
    uploads = list(uploads or ())
    limit = get_setting("ATTACHMENT_MAX_COUNT")
    if len(uploads) > limit:
        message = _("Attach at most %(limit)d files at a time.") % {"limit": limit}
        raise GuardFailed(message, {"attachments": message})
    checked = []
    for uploaded in uploads:
        try:
            checked.append(check_upload(uploaded))
        except ValidationError as exc:
            raise GuardFailed(exc.messages[0], {"attachments": exc.messages[0]}) from exc
    return checked


def store_attachments(ticket, event, actor, checked_files, written, *, now, visibility=Visibility.PUBLIC):
    """Write checked files and their rows; record each written file in ``written``."""
    stored = []
    for checked in checked_files:
        attachment = Attachment(
            ticket=ticket,
            event=event,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            visibility=visibility,
            uploaded_by=actor_user(actor),
            by_citizen=isinstance(actor, CitizenActor),
            created_at=now,
        )
        attachment.file.save(checked.original_name, checked.content, save=False)
        written.append((attachment.file.storage, attachment.file.name))
        attachment.save()
        stored.append(attachment)
    return stored
