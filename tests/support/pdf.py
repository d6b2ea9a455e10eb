"""Reading what a PDF written by fpdf2 shows (pypdf is not a dependency:
fpdf2 writes text as literal strings in its, usually compressed, streams)."""

import re
import zlib


def pdf_text(content):
    """The drawing operators of a PDF's streams, decompressed."""
    text = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            text.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            text.append(stream.decode("latin-1"))
    return "\n".join(text)
