"""Image bytes for attachment tests, made with Pillow."""

import io

from PIL import Image


def jpeg_with_gps(size=(64, 48), color=(200, 30, 30), gps=True):
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "FotoCamera SpA"  # Make
    if gps:
        # GPSInfo IFD: latitude 45°4'N, longitude 7°41'E.
        exif[0x8825] = {1: "N", 2: (45.0, 4.0, 0.0), 3: "E", 4: (7.0, 41.0, 0.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes(size=(10, 10)):
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 255, 128)).save(out, "PNG")
    return out.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
