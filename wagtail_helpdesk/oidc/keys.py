"""The relying party's keys: one set for the federation (it signs the Entity
Configuration) and the core ``sig`` (request objects, client assertions) and
``enc`` (userinfo is encrypted to it) keys, all RSA-2048 with a ``kid``.

They live in one JSON file, readable by the owner only, in
``OIDC_KEYS_DIR`` (default: ``oidc-keys`` next to the private attachments),
never in the repository or the database. ``manage.py helpdesk_oidc_keys``
creates, lists and rotates them.

Rotation with overlap (providers cache our keys until our trust chain
expires): ``rotate`` makes a new key the one in use and keeps the old one
*published* (and, for ``enc``, usable to decrypt) until ``retire_at``;
``prune`` then removes it.
"""

import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
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


def _entry(role):
    use = "sig" if role in ("federation", "sig") else "enc"
    key = RSAKey.generate_key(2048, parameters={"use": use}, auto_kid=True)
    return {"role": role, "kid": key.kid, "jwk": key.as_dict(private=True),
            "created": _now().isoformat(), "retire_at": None}


def generate(roles=ROLES):
    """Create the keys of ``roles`` that do not exist yet; return those made."""
    entries = load()
    have = {e["role"] for e in entries}
    made = [_entry(role) for role in roles if role not in have]
    if made:
        _save(entries + made)
    return made


def rotate(role, overlap_days):
    """A new key for ``role`` becomes the one in use; the previous one stays
    published until ``overlap_days`` have passed. Returns the new entry."""
    if role not in ROLES:
        raise ValueError(role)
    entries = load()
    retire_at = (_now() + timedelta(days=overlap_days)).isoformat()
    for entry in entries:
        if entry["role"] == role and not entry["retire_at"]:
            entry["retire_at"] = retire_at
    new = _entry(role)
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


def current(role):
    """The key in use for ``role`` (the newest not being retired)."""
    entries = [e for e in _of(role) if not e["retire_at"]] or _of(role)
    return RSAKey.import_key(entries[-1]["jwk"])


def key_set(role):
    """Every published key of ``role``, private parts included (to decrypt)."""
    return KeySet([RSAKey.import_key(e["jwk"]) for e in _of(role)])


def public_jwks(*roles):
    """{"keys": [...]} with the public part of every published key of ``roles``."""
    keys = []
    for role in roles:
        keys += [RSAKey.import_key(e["jwk"]).as_dict(private=False) for e in _of(role)]
    return {"keys": keys}
