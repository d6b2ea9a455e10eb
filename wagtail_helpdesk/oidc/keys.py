"""The relying party's keys: one set for the federation (it signs the Entity
Configuration) and the core ``sig`` (request objects, client assertions) and
``enc`` (userinfo is encrypted to it) keys, all RSA-2048 with a ``kid``.

They live in one JSON file, readable by the owner only, in
``OIDC_KEYS_DIR`` (default: ``oidc-keys`` next to the private attachments),
never in the repository or the database. ``manage.py helpdesk_oidc_keys``
creates, lists and rotates them.

Rotation with overlap (providers cache our keys until our trust chain
expires, and verify what we sign with the keys they cached):

* a new **signing** key (``federation``, ``sig``) is published at once but
  used only from ``active_from`` (the overlap later), when every provider
  has seen it; the old key signs until then and is retired an hour after;
* a new **encryption** key is used at once and listed first (providers
  encrypt to the first ``enc`` key they know); the old one stays published
  and able to decrypt until ``retire_at``;
* ``prune`` removes keys whose ``retire_at`` has passed.
"""

import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from ..conf import get_setting

ROLES = ("federation", "sig", "enc")
FILENAME = "keys.json"


def keys_dir():
    from ..attachments import private_media_root

    return Path(get_setting("OIDC_KEYS_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(private_media_root())), "oidc-keys"))


def _path():
    return keys_dir() / FILENAME


def _now():
    return datetime.now(UTC)


def load():
    """The stored entries: [{"role", "kid", "jwk", "created", "retire_at"}]."""
    path = _path()
    if not path.exists():
        return []
    return json.loads(path.read_text())["keys"]


def _save(entries):
    folder = keys_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".keys-")
    with os.fdopen(handle, "w") as out:  # mkstemp: 0600 from the start
        json.dump({"keys": entries}, out, indent=2)
    os.replace(temporary, _path())


SIGNING_ROLES = ("federation", "sig")
#: An old signing key is retired this long after its successor takes over
#: (requests it signed just before may still be on their way).
HANDOVER = timedelta(hours=1)


def _entry(role, active_from=None):
    use = "sig" if role in SIGNING_ROLES else "enc"
    key = RSAKey.generate_key(2048, parameters={"use": use}, auto_kid=True)
    return {"role": role, "kid": key.kid, "jwk": key.as_dict(private=True),
            "created": _now().isoformat(), "retire_at": None,
            "active_from": active_from.isoformat() if active_from else None}


def generate(roles=ROLES):
    """Create the keys of ``roles`` that do not exist yet; return those made."""
    entries = load()
    have = {e["role"] for e in entries}
    made = [_entry(role) for role in roles if role not in have]
    if made:
        _save(entries + made)
    return made


def rotate(role, overlap_days):
    """Start replacing ``role``'s key (see the module's docstring for the
    overlap); returns the new entry."""
    if role not in ROLES:
        raise ValueError(role)
    entries = load()
    switch = _now() + timedelta(days=overlap_days)
    signing = role in SIGNING_ROLES
    retire_at = (switch + HANDOVER if signing else switch).isoformat()
    for entry in entries:
        if entry["role"] == role and not entry["retire_at"]:
            entry["retire_at"] = retire_at
    new = _entry(role, active_from=switch if signing else None)
    _save(entries + [new])
    return new


def prune():
    """Remove keys whose overlap is over; return how many."""
    entries = load()
    now = _now().isoformat()
    kept = [e for e in entries if not e["retire_at"] or e["retire_at"] > now]
    if len(kept) != len(entries):
        _save(kept)
    return len(entries) - len(kept)


def _of(role):
    found = [e for e in load() if e["role"] == role]
    if not found:
        raise ImproperlyConfigured(
            f"No {role} key for SPID/CIE: run `manage.py helpdesk_oidc_keys generate`.")
    return found


def _in_use(entry, now):
    started = not entry.get("active_from") or entry["active_from"] <= now
    return started and (not entry["retire_at"] or entry["retire_at"] > now)


def _ordered(role):
    """``role``'s published keys, the one in use first."""
    now = _now().isoformat()
    entries = _of(role)
    using = [e for e in entries if _in_use(e, now)][-1:] or entries[-1:]
    return using + [e for e in entries if e is not using[0]]


def current(role):
    """The key in use for ``role``: the newest that has started and is not retired."""
    return RSAKey.import_key(_ordered(role)[0]["jwk"])


def key_set(role):
    """Every published key of ``role``, private parts included (to decrypt)."""
    return KeySet([RSAKey.import_key(e["jwk"]) for e in _ordered(role)])


def public_jwks(*roles):
    """{"keys": [...]} with the public part of every published key of
    ``roles``, for each role the key in use first."""
    keys = []
    for role in roles:
        keys += [RSAKey.import_key(e["jwk"]).as_dict(private=False) for e in _ordered(role)]
    return {"keys": keys}


def sign(claims, role="sig", **header):
    """``claims`` as a JWS signed (RS256) with ``role``'s key in use, its
    ``kid`` in the header (plus ``header``, e.g. ``typ``)."""
    signer = current(role)
    return jwt.encode({"alg": "RS256", "kid": signer.kid, **header}, claims, signer,
                      algorithms=["RS256"])
