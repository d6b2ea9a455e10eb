"""RSA keys made once per test session, handed out in order.

Making an RSA-2048 key costs a fraction of a second and the SPID/CIE tests
need about ten per test (our relying party's three, the fake federation's
anchor and providers, the odd "some other key" of a security test): half a
minute of the suite was key generation. The ``pooled_rsa_keys`` fixture
(autouse, tests/conftest.py) puts this pool under joserfc's key generation
for each test: the n-th key a test asks for is the session's n-th key,
generated the first time any test needs it.

So the keys of one test are all different from one another, as freshly
generated ones would be, and a security test's "key the federation does not
know" is never one the federation holds. Tests do share keys with other
tests, whose caches and key folders are their own (``clear_cache``,
``tmp_path``). The interoperability suite keeps fresh keys: the reference
providers it talks to live longer than one test and remember what they saw.
"""

import pytest


class RSAKeyPool:
    def __init__(self, generate):
        self._generate = generate  # the real generator: size -> private key
        self._made = {}  # size -> [private keys]
        self._next = {}  # size -> index of the key the next call gets

    def restart(self):
        """A new test: hand out from the first key again."""
        self._next.clear()

    def take(self, size):
        made = self._made.setdefault(size, [])
        index = self._next.get(size, 0)
        if index == len(made):
            made.append(self._generate(size))
        self._next[size] = index + 1
        return made[index]

    @property
    def generated(self):
        return sum(len(keys) for keys in self._made.values())


@pytest.fixture(scope="session")
def rsa_key_pool():
    from joserfc.jwk import RSAKey

    return RSAKeyPool(RSAKey.binding.generate_private_key)


@pytest.fixture(autouse=True)
def pooled_rsa_keys(request, monkeypatch):
    """Every RSA key joserfc makes during the test (``RSAKey.generate_key``:
    ours in wagtail_helpdesk.oidc.keys, the fake federation's) comes from the
    session's pool; the interoperability tests keep generating theirs."""
    if request.node.get_closest_marker("interop"):
        yield None
        return
    from joserfc.jwk import RSAKey

    pool = request.getfixturevalue("rsa_key_pool")
    pool.restart()
    monkeypatch.setattr(RSAKey.binding, "generate_private_key", staticmethod(pool.take))
    yield pool
