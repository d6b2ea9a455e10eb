"""From a SPID/CIE login to an account and its citizen record.

* Identities are keyed by (issuer, subject): the same person through another
  provider is another identity.
* The fiscal number (``TINIT-`` stripped, upper case) links the login to the
  citizen record with that code — e.g. one an operator registered from a
  phone call — when that record has no account yet.
* A record already tied to another identity's account is joined only when
  ``OIDC_LINK_BY_FISCAL_NUMBER`` is on: convenient (SPID and CIE reach the
  same requests) but it trusts every provider with every account — a
  compromised provider could log in as anyone. Off, the login is refused
  with an explanation.
* Names and e-mail are refreshed from the provider at each login.
"""

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ..conf import get_setting
from ..fiscalcode import is_valid_fiscal_code, normalise_fiscal_code
from ..models import Citizen, CitizenLogin
from .flow import FISCAL_NUMBER, LoginError


class LinkRefused(LoginError):
    """The fiscal code belongs to an account reached through another provider."""


def fiscal_code(claims):
    code = normalise_fiscal_code(claims.get(FISCAL_NUMBER) or claims.get("fiscal_number"))
    if not is_valid_fiscal_code(code):
        raise LoginError("no valid fiscal number among the attributes")
    return code


def sign_in(result):
    """The account ``result`` (a :class:`~.flow.Result`) logs into, created or
    linked as needed, its citizen record up to date."""
    code = fiscal_code(result.claims)
    now = timezone.now()
    with transaction.atomic():
        login = (CitizenLogin.objects.select_for_update().select_related("user")
                 .filter(issuer=result.issuer, subject=result.subject).first())
        if login is not None:
            user = login.user
            if not user.is_active:
                raise LoginError("the account is deactivated")
        else:
            user = _account_for(code)
            login = CitizenLogin.objects.create(issuer=result.issuer, subject=result.subject,
                                                user=user)
        citizen = _citizen_for(user, code)
        _refresh(user, citizen, result.claims)
        login.last_login_at = now
        login.save(update_fields=["last_login_at"])
    return user


def _account_for(code):
    linked = (Citizen.objects.select_for_update()
              .filter(fiscal_code=code, erased_at__isnull=True, user__isnull=False)
              .select_related("user").first())
    if linked is not None:
        if not get_setting("OIDC_LINK_BY_FISCAL_NUMBER"):
            raise LinkRefused("fiscal code already linked to an account of another provider")
        return linked.user
    user = get_user_model().objects.create_user(username=f"cittadino-{secrets.token_hex(8)}")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def _citizen_for(user, code):
    citizen = Citizen.objects.select_for_update().filter(user=user).first()
    if citizen is not None and citizen.erased_at is None:
        if citizen.fiscal_code and citizen.fiscal_code != code:
            raise LoginError("the fiscal number differs from the account's")
        return citizen
    # Only a registered record (an operator's) is taken over by the login; a
    # declared one never holds a fiscal code, but say so all the same.
    found = (Citizen.objects.select_for_update()
             .filter(fiscal_code=code, declared=False, erased_at__isnull=True,
                     user__isnull=True).first())
    if found is None:
        found = Citizen(fiscal_code=code)
    found.user = user
    found.save()
    return found


def _refresh(user, citizen, claims):
    values = {"given_name": (claims.get("given_name") or "").strip(),
              "family_name": (claims.get("family_name") or "").strip(),
              "email": (claims.get("email") or "").strip()}
    changed = [k for k, v in values.items() if v and getattr(citizen, k) != v]
    for name in changed:
        setattr(citizen, name, values[name])
    if changed:
        citizen.save(update_fields=[*changed, "updated_at"])
    user.first_name, user.last_name = values["given_name"][:150], values["family_name"][:150]
    user.email = values["email"] or user.email
    user.last_login = timezone.now()
    user.save(update_fields=["first_name", "last_name", "email", "last_login"])
