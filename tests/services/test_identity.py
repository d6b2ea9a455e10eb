import pytest
from django.core.exceptions import ValidationError

from wagtail_helpdesk.fiscalcode import (
    FiscalCodeFormField,
    is_valid_fiscal_code,
    normalise_fiscal_code,
    validate_fiscal_code,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("rssmra85t10a562s", "RSSMRA85T10A562S"),
        ("  RSS MRA 85T10 A562S ", "RSSMRA85T10A562S"),
        ("TINIT-RSSMRA85T10A562S", "RSSMRA85T10A562S"),
        ("tinit-rssmra85t10a562s", "RSSMRA85T10A562S"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise(raw, expected):
    assert normalise_fiscal_code(raw) == expected


def test_valid_codes_including_omocodia():
    assert is_valid_fiscal_code("RSSMRA85T10A562S")
    # Omocodia: digits replaced by letters (1→M, 0→L …), with its own check character.
    assert is_valid_fiscal_code("RSSMRA85T1LA562V")
    assert is_valid_fiscal_code("TINIT-RSSMRA85T10A562S")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("RSSMRA85T10A562X", "fiscal_code_invalid"),  # wrong check character
        ("RSSMRA85T10A562", "fiscal_code_length"),
        ("RSSMRA85T10A562SS", "fiscal_code_length"),
        ("12345678901", "fiscal_code_length"),
        ("RSSMRA85T99A562S", "fiscal_code_invalid"),  # impossible day
    ],
)
def test_invalid_codes_give_a_clear_error(value, code):
    assert not is_valid_fiscal_code(value)
    with pytest.raises(ValidationError) as exc:
        validate_fiscal_code(value)
    assert exc.value.error_list[0].code == code
    assert str(exc.value.messages[0])  # a readable, non-empty message


def test_form_field_normalises_and_validates():
    field = FiscalCodeFormField()
    assert field.clean("tinit-rssmra85t10a562s") == "RSSMRA85T10A562S"
    with pytest.raises(ValidationError):
        field.clean("RSSMRA85T10A562X")
    assert FiscalCodeFormField(required=False).clean("") == ""


def test_error_is_translated_to_italian():
    from django.utils import translation

    with translation.override("it"):
        with pytest.raises(ValidationError) as exc:
            validate_fiscal_code("RSSMRA85T10A562X")
        assert "codice fiscale" in exc.value.messages[0].lower()
