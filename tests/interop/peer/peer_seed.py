"""Seed data of the interoperability peer, run with the peer's own Python
(``spid-cie-oidc`` and Django 4.2), never with ours:

    PEER_PROFILE=spid PEER_DB=... PEER_TRUST_ANCHOR=... DJANGO_SETTINGS_MODULE=peer_settings \
        python peer_seed.py keys KEYS.json
    ... python peer_seed.py seed CONFIG.json

``keys`` makes (once) the peer's private keys: the trust anchor's and each
provider's federation key and core signing key. They are kept between runs
so the trust anchor our relying party pins stays the same.

``check-rp URL`` runs the anchor's onboarding checks on the relying party
at URL (its entity configuration fetched and validated as the package does
before registering a descendant, its ``openid_relying_party`` metadata
against the package's SPID and CIE schemas) and prints what each said.

``forget URL`` drops what this peer cached about the entity URL (its trust
chain and fetched statements), as if the cache had expired.

``seed`` fills a freshly migrated database (the harness writes CONFIG.json,
see tests/interop/harness.py) and prints a JSON report on stdout:

* spid process: the trust anchor (created first: the package signs
  subordinate statements with the first active configuration that has
  ``federation_entity`` metadata), the SPID provider, the anchor's
  descendants (both providers and our relying party, with onboarding
  profiles, hence trust marks), the test citizen;
* cie process: the CIE provider and the test citizen.
"""

import argparse
import json
import os
import sys
import tempfile

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from spid_cie_oidc.authority.models import (  # noqa: E402
    FederationDescendant,
    FederationEntityAssignedProfile,
    FederationEntityProfile,
)
from spid_cie_oidc.entity.jwks import create_jwk, public_jwk_from_private_jwk  # noqa: E402
from spid_cie_oidc.entity.models import FederationEntityConfiguration  # noqa: E402

KEY_NAMES = ("anchor", "spid_federation", "spid_core", "cie_federation", "cie_core")
SIGNING = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
KEY_ENCRYPTION = ["RSA-OAEP", "RSA-OAEP-256"]
CONTENT_ENCRYPTION = ["A128CBC-HS256", "A256CBC-HS512"]
ACR = ["https://www.spid.gov.it/SpidL1", "https://www.spid.gov.it/SpidL2",
       "https://www.spid.gov.it/SpidL3"]
FISCAL_NUMBER = "https://attributes.eid.gov.it/fiscal_number"


def make_keys(path):
    """The peer's keys, created the first time only (RSA, each with a kid;
    core keys also say ``use``: the provider picks its keys by it)."""
    if os.path.exists(path):
        with open(path) as handle:
            keys = json.load(handle)
        if set(keys) == set(KEY_NAMES):
            return keys
    keys = {}
    for name in KEY_NAMES:
        jwk = create_jwk()
        jwk["use"] = "sig"
        keys[name] = jwk
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".peer-keys-")
    with os.fdopen(handle, "w") as out:
        json.dump(keys, out, indent=2)
    os.replace(temporary, path)
    return keys


def public(jwk):
    found = public_jwk_from_private_jwk(jwk)
    if "use" in jwk:
        found["use"] = jwk["use"]
    return found


def provider_metadata(entity_id, profile, core_key):
    """The ``openid_provider`` metadata of a provider of ``profile``."""
    metadata = {
        "issuer": entity_id,
        "organization_name": f"Interop {profile.upper()} provider",
        "authorization_endpoint": f"{entity_id}authorization",
        "token_endpoint": f"{entity_id}token",
        "userinfo_endpoint": f"{entity_id}userinfo",
        "introspection_endpoint": f"{entity_id}introspection",
        "revocation_endpoint": f"{entity_id}revocation",
        "jwks": {"keys": [public(core_key)]},
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": SIGNING,
        "id_token_signing_alg_values_supported": SIGNING,
        "id_token_encryption_alg_values_supported": KEY_ENCRYPTION,
        "id_token_encryption_enc_values_supported": CONTENT_ENCRYPTION,
        "userinfo_signing_alg_values_supported": SIGNING,
        "userinfo_encryption_alg_values_supported": KEY_ENCRYPTION,
        "userinfo_encryption_enc_values_supported": CONTENT_ENCRYPTION,
        "request_object_signing_alg_values_supported": SIGNING,
        "request_object_encryption_alg_values_supported": KEY_ENCRYPTION,
        "request_object_encryption_enc_values_supported": CONTENT_ENCRYPTION,
        "acr_values_supported": ACR,
        "subject_types_supported": ["pairwise"],
        "request_parameter_supported": True,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "claims_supported": ["given_name", "family_name", "email", FISCAL_NUMBER],
    }
    if profile == "spid":
        metadata.update(scopes_supported=["openid", "offline_access"],
                        op_name="Interop SPID provider", op_uri=entity_id)
    else:
        metadata.update(scopes_supported=["openid", "offline_access", "profile", "email"],
                        claims_parameter_supported=True,
                        tls_client_certificate_bound_access_tokens=True,
                        authorization_response_iss_parameter_supported=True)
    return metadata


def organization(name, entity_id):
    return {"organization_name": name, "homepage_uri": entity_id,
            "contacts": ["interop@example.org"]}


def create_configuration(**fields):
    """A FederationEntityConfiguration, checked by the package's own validators."""
    configuration = FederationEntityConfiguration(is_active=True, **fields)
    configuration.full_clean()
    configuration.save()
    return configuration


def create_provider(config, keys):
    profile = settings.PROFILE
    entity_id = config["providers"][profile]
    core = keys[f"{profile}_core"]
    return create_configuration(
        sub=entity_id, entity_type="openid_provider",
        authority_hints=[config["anchor"]],
        jwks_fed=[keys[f"{profile}_federation"]], jwks_core=[core],
        metadata={"federation_entity": organization(f"Interop {profile.upper()} provider",
                                                    entity_id),
                  "openid_provider": provider_metadata(entity_id, profile, core)})


def create_anchor(config, keys):
    anchor = config["anchor"]
    return create_configuration(
        sub=anchor, entity_type="federation_entity",
        jwks_fed=[keys["anchor"]], jwks_core=[keys["anchor"]],
        constraints={"max_path_length": 1},
        metadata={"federation_entity": {
            **organization("Interop trust anchor", anchor),
            "federation_fetch_endpoint": f"{anchor}fetch",
            "federation_list_endpoint": f"{anchor}list",
            "federation_resolve_endpoint": f"{anchor}resolve",
            "federation_trust_mark_status_endpoint": f"{anchor}trust_mark_status",
        }})


def onboard(anchor, sub, name, kind, jwks, profile):
    """``sub`` as a descendant of the anchor with an onboarding profile (its
    trust mark). Created through the ORM: the model's ``sub`` validator
    would fetch the entity configuration, which our live server only
    serves once the peer is up."""
    descendant = FederationDescendant.objects.create(
        sub=sub, name=name[:33], type=kind, jwks=jwks, is_active=True)
    FederationEntityAssignedProfile.objects.create(descendant=descendant, profile=profile,
                                                   issuer=anchor)
    return descendant


def create_descendants(config, keys, anchor):
    op_profile = FederationEntityProfile.objects.create(
        name="SPID/CIE provider", profile_category="openid_provider",
        profile_id=config["trust_marks"]["openid_provider"],
        trust_mark_template={"organization_type": "public"})
    rp_profile = FederationEntityProfile.objects.create(
        name="Public relying party", profile_category="openid_relying_party",
        profile_id=config["trust_marks"]["openid_relying_party"],
        trust_mark_template={"organization_type": "public"})
    for profile, entity_id in config["providers"].items():
        onboard(anchor, entity_id, f"Interop {profile.upper()} provider", "openid_provider",
                [public(keys[f"{profile}_federation"])], op_profile)
    relying_party = config["relying_party"]
    onboard(anchor, relying_party["entity_id"], "wagtail_helpdesk", "openid_relying_party",
            relying_party["jwks"]["keys"], rp_profile)


def create_citizen(citizen):
    user = get_user_model().objects.create_user(
        username=citizen["username"], password=citizen["password"],
        first_name=citizen["given_name"], last_name=citizen["family_name"],
        email=citizen["email"])
    user.attributes = {"given_name": citizen["given_name"],
                       "family_name": citizen["family_name"],
                       "email": citizen["email"],
                       FISCAL_NUMBER: f"TINIT-{citizen['fiscal_code']}"}
    user.save()
    return user


def seed(config):
    keys = make_keys(config["keys_file"])
    report = {"profile": settings.PROFILE}
    with transaction.atomic():
        if settings.PROFILE == "spid":
            anchor = create_anchor(config, keys)  # first, see the module docstring
            report["anchor"] = {"entity_id": anchor.sub, "jwks": {"keys": anchor.public_jwks}}
            create_provider(config, keys)
            create_descendants(config, keys, anchor)
        else:
            create_provider(config, keys)
        create_citizen(config["citizens"][settings.PROFILE])
    return report


def check_relying_party(url):
    from spid_cie_oidc.authority.validators import validate_entity_configuration
    from spid_cie_oidc.entity.schemas.rp_metadata import RPMetadataCie, RPMetadataSpid

    report = {}
    try:
        configuration = validate_entity_configuration(url)
    except Exception as exc:  # the package raises many kinds
        return {"entity_configuration": f"{type(exc).__name__}: {exc}"}
    report["entity_configuration"] = "ok"
    metadata = configuration.payload.get("metadata", {}).get("openid_relying_party", {})
    for name, schema in (("spid", RPMetadataSpid), ("cie", RPMetadataCie)):
        try:
            schema(**metadata)
        except Exception as exc:  # pydantic.ValidationError
            report[f"openid_relying_party_{name}"] = str(exc)
        else:
            report[f"openid_relying_party_{name}"] = "ok"
    return report


def forget(url):
    from spid_cie_oidc.entity.models import FetchedEntityStatement, TrustChain

    chains, _ = TrustChain.objects.filter(sub=url).delete()
    statements, _ = FetchedEntityStatement.objects.filter(sub=url).delete()
    return {"trust_chains": chains, "statements": statements}


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["keys", "seed", "check-rp", "forget"])
    parser.add_argument("path")
    args = parser.parse_args(argv)
    if args.command == "keys":
        keys = make_keys(args.path)
        print(json.dumps({"kids": {name: key["kid"] for name, key in keys.items()}}))
        return
    if args.command == "check-rp":
        print(json.dumps(check_relying_party(args.path)))
        return
    if args.command == "forget":
        print(json.dumps(forget(args.path)))
        return
    with open(args.path) as handle:
        config = json.load(handle)
    print(json.dumps(seed(config)))


if __name__ == "__main__":
    main(sys.argv[1:])
