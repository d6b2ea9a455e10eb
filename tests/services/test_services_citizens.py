"""Finding and registering citizens from the back office."""

import pytest
from django.core.exceptions import PermissionDenied

from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.models import Citizen


@pytest.fixture
def op(factories):
    return factories.operator(factories.office())


def test_search_by_fiscal_code_or_name(op, factories):
    rossi = factories.citizen(given_name="Mario", family_name="Rossi",
                              fiscal_code="RSSMRA85T10A562S")
    factories.citizen(given_name="Maria", family_name="Bianchi")
    erased = factories.citizen(given_name="Mario", family_name="Rossini")
    erased.erased_at = erased.created_at
    erased.save()
    assert services.search_citizens(op, "tinit-rssmra85t10a562s") == [rossi]
    assert services.search_citizens(op, "mario rossi") == [rossi]  # erased ones are hidden
    assert services.search_citizens(op, "   ") == []


def test_register_completes_an_existing_citizen_without_overwriting(op, factories):
    known = factories.citizen(given_name="Mario", family_name="Rossi",
                              fiscal_code="RSSMRA85T10A562S", email="mario@example.org", phone="")
    again = services.register_citizen(op, given_name="M.", family_name="R.",
                                      fiscal_code="rssmra85t10a562s", email="altro@example.org",
                                      phone="011 123456")
    assert again == known
    again.refresh_from_db()
    assert (again.given_name, again.email, again.phone) == ("Mario", "mario@example.org",
                                                            "011 123456")


def test_register_new_and_refusals(op, factories):
    person = services.register_citizen(op, given_name=" Laura ", family_name="Bianchi")
    assert person.fiscal_code is None and person.given_name == "Laura"
    with pytest.raises(GuardFailed) as exc:
        services.register_citizen(op, given_name="", family_name="Verdi")
    assert list(exc.value.field_errors) == ["given_name"]
    with pytest.raises(GuardFailed) as exc:
        services.register_citizen(op, given_name="A", family_name="B",
                                  fiscal_code="RSSMRA85T10A562X")
    assert "fiscal_code" in exc.value.field_errors
    nobody = factories.user(group=None)
    with pytest.raises(PermissionDenied):
        services.search_citizens(nobody, "Rossi")
    with pytest.raises(PermissionDenied):
        services.register_citizen(nobody, given_name="A", family_name="B")
    assert Citizen.objects.count() == 1
