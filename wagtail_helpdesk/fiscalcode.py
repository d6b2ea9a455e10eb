"""The Italian fiscal code (codice fiscale).

Fiscal codes arrive in many shapes: lower case, with spaces, or with the
``TINIT-`` prefix SPID and CIE put in front of them. They are stored in one
shape (16 upper-case characters) and validated with python-codicefiscale,
which understands omocodia (letters standing in for digits).
"""

from codicefiscale import codicefiscale
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

TINIT_PREFIX = "TINIT-"


def normalise_fiscal_code(value):
    """Upper-case, strip white space and the ``TINIT-`` prefix. Empty stays empty."""
    if value is None:
        return ""
    code = "".join(str(value).split()).upper()
    if code.startswith(TINIT_PREFIX):
        code = code[len(TINIT_PREFIX) :]
    return code


def is_valid_fiscal_code(value):
    """True when the normalised value is a valid 16-character fiscal code."""
    code = normalise_fiscal_code(value)
    return len(code) == 16 and codicefiscale.is_valid(code)


def validate_fiscal_code(value):
    """Model/form validator: raises a translated ValidationError for a bad code."""
    code = normalise_fiscal_code(value)
    if not code:
        return
    if len(code) != 16:
        raise ValidationError(
            _("A fiscal code has 16 characters; this one has %(count)d."),
            code="fiscal_code_length",
            params={"count": len(code)},
        )
    if not codicefiscale.is_valid(code):
        raise ValidationError(
            _("“%(value)s” is not a valid fiscal code: check it against the health card."),
            code="fiscal_code_invalid",
            params={"value": code},
        )


class FiscalCodeFormField(forms.CharField):
    """A form field that normalises and validates an Italian fiscal code."""

    default_validators = [validate_fiscal_code]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 22)  # room for TINIT- and stray spaces
        kwargs.setdefault("label", _("Fiscal code"))
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalise_fiscal_code(super().to_python(value))
