import pytest

from tests.support.ai import fake_embedder, no_embedder, real_embedder  # noqa: F401


@pytest.fixture(autouse=True)
def _fake_model_by_default(fake_embedder):  # noqa: F811
    """The AI tests use the fake model unless they ask for the real one
    (``real_embedder``) or none (``no_embedder``)."""
    return fake_embedder
