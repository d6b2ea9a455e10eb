"""The SPID/CIE relying party's keys: created once, private to the owner,
listed without secrets, rotated with an overlap, pruned after it."""

import json
import stat
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from wagtail_helpdesk.oidc import keys


@pytest.fixture
def folder(tmp_path, settings):
    settings.WAGTAIL_HELPDESK_OIDC_KEYS_DIR = str(tmp_path / "oidc-keys")
    return tmp_path / "oidc-keys"


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("helpdesk_oidc_keys", *args, stdout=out)
    return out.getvalue()


def test_generate_makes_each_key_once_private_to_the_owner(folder):
    with pytest.raises(ImproperlyConfigured):
        keys.current("sig")
    out = run("generate")
    assert out.count("created") == 3
    assert "every key exists already" in run("generate")
    path = folder / "keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entries = json.loads(path.read_text())["keys"]
    assert sorted(e["role"] for e in entries) == ["enc", "federation", "sig"]
    # Federation and core keys differ; each has its kid and use.
    kids = {e["role"]: e["kid"] for e in entries}
    assert len(set(kids.values())) == 3
    public = keys.public_jwks("sig", "enc")["keys"]
    assert {k["use"] for k in public} == {"sig", "enc"} and all("d" not in k for k in public)
    assert keys.current("enc").kid == kids["enc"]


def test_list_shows_no_secret(folder):
    run("generate")
    listing = run("list")
    secret = json.loads((folder / "keys.json").read_text())["keys"][0]["jwk"]["d"]
    assert secret not in listing and "federation" in listing and str(folder) in listing


def test_a_new_signing_key_is_published_first_and_used_after_the_overlap(folder, monkeypatch):
    run("generate")
    old = keys.current("sig").kid
    out = run("rotate", "sig", "--overlap-days", "3")
    new = json.loads((folder / "keys.json").read_text())["keys"][-1]["kid"]
    assert new != old and new in out
    # Published at once (providers learn it), but the old key still signs.
    assert [k["kid"] for k in keys.public_jwks("sig")["keys"]] == [old, new]
    assert keys.current("sig").kid == old
    start = keys._now()
    monkeypatch.setattr(keys, "_now", lambda: start + timedelta(days=3, minutes=1))
    assert keys.current("sig").kid == new  # every provider has seen it by now
    assert [k["kid"] for k in keys.public_jwks("sig")["keys"]] == [new, old]
    assert run("prune").startswith("removed 0")  # in-flight requests: an hour of handover
    monkeypatch.setattr(keys, "_now", lambda: start + timedelta(days=3, hours=2))
    assert run("prune").startswith("removed 1")
    assert [k["kid"] for k in keys.public_jwks("sig")["keys"]] == [new]


def test_a_new_encryption_key_is_used_at_once_and_listed_first(folder, monkeypatch):
    run("generate")
    old = keys.current("enc").kid
    run("rotate", "enc", "--overlap-days", "3")
    new = keys.current("enc").kid
    assert new != old
    assert [k["kid"] for k in keys.public_jwks("enc")["keys"]] == [new, old]
    later = keys._now() + timedelta(days=4)
    monkeypatch.setattr(keys, "_now", lambda: later)
    assert run("prune").startswith("removed 1")


def test_the_old_encryption_key_still_decrypts_during_the_overlap(folder):
    from joserfc import jwe

    run("generate")
    old = keys.current("enc")
    token = jwe.encrypt_compact({"alg": "RSA-OAEP", "enc": "A256CBC-HS512", "kid": old.kid},
                                b"userinfo", old)
    run("rotate", "enc")
    opened = jwe.decrypt_compact(token, keys.key_set("enc"), algorithms=["RSA-OAEP",
                                                                          "A256CBC-HS512"])
    assert opened.plaintext == b"userinfo"


def test_rotate_needs_a_role(folder):
    run("generate")
    with pytest.raises(CommandError):
        run("rotate")
