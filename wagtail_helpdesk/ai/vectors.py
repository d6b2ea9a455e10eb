"""Vectors stored compactly: little-endian float16, unit length.

384 dimensions take 768 bytes; cosine similarity of unit vectors is their dot
product, computed for a whole candidate matrix at once with numpy.
"""

import hashlib

DTYPE = "<f2"


def _np():
    import numpy as np

    return np


def normalise(vector):
    """``vector`` as float32 with unit length (a zero vector stays zero)."""
    np = _np()
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def pack(vector):
    """The bytes stored for ``vector`` (normalised first)."""
    return normalise(vector).astype(DTYPE).tobytes()


def unpack(data):
    """The float32 vector stored as ``data`` (bytes or memoryview)."""
    np = _np()
    return np.frombuffer(bytes(data), dtype=DTYPE).astype(np.float32)


def matrix(blobs, dim):
    """One ``(len(blobs), dim)`` float32 matrix of stored vectors; a blob of
    the wrong size (another model's) gives a zero row."""
    np = _np()
    size = dim * 2
    raw = bytearray(size * len(blobs))
    for i, blob in enumerate(blobs):
        if blob is not None and len(blob) == size:
            raw[i * size:(i + 1) * size] = blob
    return np.frombuffer(bytes(raw), dtype=DTYPE).reshape(len(blobs), dim).astype(np.float32)


def cosines(query, rows):
    """Cosine similarity of the unit ``query`` with each unit row of ``rows``."""
    np = _np()
    if len(rows) == 0:
        return np.zeros(0, dtype=np.float32)
    return rows @ normalise(query)


def digest(model_name, text):
    """What a stored vector was computed from: model and text (SHA-256 hex)."""
    return hashlib.sha256(f"{model_name}\n{text}".encode()).hexdigest()
