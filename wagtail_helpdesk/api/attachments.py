"""A ticket's files: upload (checked, re-encoded and stored privately as the
admin does) and download (only by who may see them)."""

from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from .. import services
from ..attachments import serve_attachment
from ..models import Attachment, Visibility
from ..permissions import ticket_policy
from ..tickets.queries import visible_ticket_or_404
from . import serialise
from .schemas import AttachmentOut

router = Router(tags=["attachments"])


@router.post("/{ticket_id}/attachments/", response={201: AttachmentOut},
             summary="Attach a file", description=(
                 "multipart/form-data: file (JPEG, PNG, WebP or PDF), visibility "
                 "(internal: operators only, the default; public: the citizen sees it in "
                 "their personal area), expected_version."))
def upload(request, ticket_id: int, file: File[UploadedFile],
           visibility: Form[Literal["internal", "public"]] = "internal",
           expected_version: Form[int | None] = None):
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    attachment = services.add_attachment(
        ticket, request.user, file,
        visibility=Visibility.PUBLIC if visibility == "public" else Visibility.INTERNAL,
        expected_version=expected_version)
    return Status(201, serialise.attachment(request, attachment))


@router.get("/{ticket_id}/attachments/{attachment_id}/", url_name="attachment",
            summary="Download a file", response={200: bytes},
            openapi_extra={"responses": {200: {"description": "The file.", "content": {
                "application/octet-stream": {"schema": {"type": "string",
                                                        "format": "binary"}}}}}})
def download(request, ticket_id: int, attachment_id: int):
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    files = Attachment.objects.filter(ticket=ticket)
    if not ticket_policy().user_has_permission_for_instance(request.user, "change", ticket):
        files = files.filter(visibility=Visibility.PUBLIC)
    return serve_attachment(get_object_or_404(files, pk=attachment_id))
