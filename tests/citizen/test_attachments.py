"""Upload checks: sniffed types, limits, EXIF removal."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.support.images import PDF_BYTES, jpeg_with_gps, png_bytes
from wagtail_helpdesk.attachments import check_upload, sniff_type


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF_BYTES, "application/pdf"),
        (jpeg_with_gps(), "image/jpeg"),
        (png_bytes(), "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"MZ\x90\x00\x03", None),
        (b"<html><script>", None),
        (b"GIF89a", None),
    ],
)
def test_sniff_type(data, expected):
    assert sniff_type(data[:16]) == expected


def test_the_name_is_not_trusted():
    checked = check_upload(upload("documento.pdf", jpeg_with_gps(), "application/pdf"))
    assert checked.content_type == "image/jpeg"
    assert checked.original_name == "documento.jpg"
    with pytest.raises(ValidationError) as exc:
        check_upload(upload("foto.jpg", b"MZ\x90\x00 windows program", "image/jpeg"))
    assert exc.value.code == "bad_type"
    assert "foto.jpg" in exc.value.messages[0]


def test_exif_and_gps_are_removed_and_pixels_kept():
    original = jpeg_with_gps(size=(40, 30))
    assert Image.open(io.BytesIO(original)).getexif()  # the fixture really has EXIF
    checked = check_upload(upload("foto.jpg", original))
    img = Image.open(io.BytesIO(checked.content.read()))
    assert img.getexif() == {} and "exif" not in img.info
    assert img.size == (40, 30)
    assert checked.size == len(checked.content) and len(checked.sha256) == 64


def test_large_images_are_scaled_down(settings):
    settings.WAGTAIL_HELPDESK_IMAGE_MAX_SIDE = 100
    checked = check_upload(upload("grande.png", png_bytes(size=(400, 200))))
    assert Image.open(io.BytesIO(checked.content.read())).size == (100, 50)


def test_pdf_is_stored_unchanged():
    checked = check_upload(upload("modulo.pdf", PDF_BYTES))
    assert checked.content.read() == PDF_BYTES


def test_size_limit(settings):
    settings.WAGTAIL_HELPDESK_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as exc:
        check_upload(upload("modulo.pdf", PDF_BYTES + b"x" * 200))
    assert exc.value.code == "too_large"


def test_empty_and_damaged_files():
    with pytest.raises(ValidationError):
        check_upload(upload("vuoto.pdf", b""))
    truncated = jpeg_with_gps()[:40]
    with pytest.raises(ValidationError) as exc:
        check_upload(upload("rotta.jpg", truncated))
    assert "damaged" in exc.value.messages[0]
