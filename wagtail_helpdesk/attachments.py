"""Private storage and checks for ticket attachments.

Files are never served from ``MEDIA_URL``: the storage has no public URL and a
permission-checked view streams them. The real type is sniffed from the bytes
(the name and the browser's claim are not trusted); images are re-encoded,
which drops EXIF metadata, GPS position included.
"""

import hashlib
import io
import os
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InvalidStorageError, storages
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .conf import get_setting

ALLOWED_TYPES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def private_media_root():
    return str(get_setting("PRIVATE_MEDIA_ROOT") or os.path.join(
        str(getattr(settings, "BASE_DIR", os.getcwd())), "private_media"
    ))


class PrivateFileSystemStorage(FileSystemStorage):
    """Local storage with no public URL, rooted at ``PRIVATE_MEDIA_ROOT``
    (read when used, so a settings change takes effect)."""

    @property
    def base_location(self):
        return self._location or private_media_root()

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Helpdesk attachments are private: serve them through the download view.")


def private_storage():
    """The storage for attachments: ``STORAGES[<PRIVATE_STORAGE>]`` when the host
    defines it (e.g. a private S3 bucket), otherwise a local folder outside
    ``MEDIA_ROOT``."""
    try:
        return storages[get_setting("PRIVATE_STORAGE")]
    except InvalidStorageError:
        return PrivateFileSystemStorage()


@dataclass
class CheckedFile:
    """An uploaded file that passed the checks, ready to be stored."""

    content: ContentFile
    original_name: str
    content_type: str
    size: int
    sha256: str


def sniff_type(head):
    """The MIME type of a file from its first bytes, or None if not allowed."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _reencode_image(data, content_type):
    """Decode and re-encode an image: drops EXIF/GPS and anything hidden in it.

    The pixel count is checked from the header, before any decoding, so a small
    file claiming a huge image (a decompression bomb) costs nothing.
    """
    max_side = get_setting("IMAGE_MAX_SIDE")
    pil_format = _PIL_FORMATS[content_type]
    try:
        with Image.open(io.BytesIO(data), formats=[pil_format]) as img:
            if img.width * img.height > get_setting("IMAGE_MAX_PIXELS"):
                raise ValidationError(
                    _("The image is too large (%(width)d×%(height)d pixels): send a smaller one."),
                    params={"width": img.width, "height": img.height},
                    code="too_many_pixels",
                )
            if pil_format == "JPEG":
                img.draft("RGB", (max_side, max_side))  # decode at a reduced scale
            img.load()
            img = ImageOps.exif_transpose(img)  # keep the orientation the EXIF asked for
            img.thumbnail((max_side, max_side))
            out = io.BytesIO()
            if pil_format == "JPEG":
                img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            elif pil_format == "PNG":
                img.save(out, "PNG", optimize=True)
            else:
                img.save(out, "WEBP", quality=85)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValidationError(_("The image could not be read: it may be damaged.")) from exc


def check_upload(uploaded):
    """Validate an uploaded file and return a :class:`CheckedFile`.

    Raises a translated ``ValidationError`` for a file too large, of a type
    not accepted, or damaged.
    """
    max_bytes = get_setting("ATTACHMENT_MAX_BYTES")
    if uploaded.size is not None and uploaded.size > max_bytes:
        raise ValidationError(
            _("“%(name)s” is too large: the limit is %(limit)s MB."),
            params={"name": uploaded.name, "limit": round(max_bytes / (1024 * 1024), 1)},
            code="too_large",
        )
    data = uploaded.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(
            _("“%(name)s” is too large: the limit is %(limit)s MB."),
            params={"name": uploaded.name, "limit": round(max_bytes / (1024 * 1024), 1)},
            code="too_large",
        )
    if not data:
        raise ValidationError(_("“%(name)s” is empty."), params={"name": uploaded.name})
    content_type = sniff_type(data[:16])
    if content_type is None:
        raise ValidationError(
            _("“%(name)s” is not accepted: attach JPEG, PNG or WebP images or PDF documents."),
            params={"name": uploaded.name},
            code="bad_type",
        )
    if content_type != "application/pdf":
        data = _reencode_image(data, content_type)
    base = os.path.basename(uploaded.name or "file").strip() or "file"
    stem = base.rsplit(".", 1)[0][:200] or "file"
    name = stem + ALLOWED_TYPES[content_type]
    return CheckedFile(
        content=ContentFile(data, name=name),
        original_name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _serve_inline(content_type):
    """Images are shown in the browser (operators look at photos of the
    problem): they were re-encoded on upload, carry no active content, and the
    response forbids sniffing and scripts. PDFs and anything else download."""
    return content_type in ALLOWED_TYPES and content_type.startswith("image/")


def serve_attachment(attachment):
    """Stream ``attachment`` from the private storage (the caller has checked
    who may see it): no sniffing, no scripts, no caching by proxies."""
    from django.http import FileResponse, Http404

    try:
        handle = attachment.file.storage.open(attachment.file.name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    content_type = attachment.content_type if attachment.content_type in ALLOWED_TYPES else (
        "application/octet-stream")
    response = FileResponse(
        handle, as_attachment=not _serve_inline(content_type),
        filename=attachment.original_name, content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
