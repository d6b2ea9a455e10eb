"""The session's pool of RSA keys (tests/support/rsa_pool.py) keeps the
security tests honest: within a test every key is a different one."""

from tests.support.oidc_fake import _key
from wagtail_helpdesk.oidc import keys


def test_every_key_of_a_test_differs_from_the_others(federation):
    theirs = [federation.anchor_key, federation.spid.federation_key, federation.spid.core_key,
              federation.cie.federation_key, federation.cie.core_key]
    ours = [keys.current(role) for role in keys.ROLES]
    unknown = _key()  # what a security test signs with: a key nobody vouches for
    kids = [key.kid for key in theirs + ours + [unknown]]
    assert len(set(kids)) == len(kids) == 9


def test_the_next_test_gets_the_same_keys_without_making_them_again(pooled_rsa_keys):
    first, second = _key(), _key()
    assert first.kid != second.kid
    made = pooled_rsa_keys.generated
    pooled_rsa_keys.restart()  # what the next test starts with
    assert [_key().kid, _key().kid] == [first.kid, second.kid]
    assert pooled_rsa_keys.generated == made
