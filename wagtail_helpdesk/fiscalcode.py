"""The Italian fiscal code (codice fiscale).

Fiscal codes arrive in many shapes: lower case, with spaces, or with the
``TINIT-`` prefix SPID and CIE put in front of them. They are stored in one
shape (16 upper-case characters) and validated with python-codicefiscale,
which understands omocodia (letters standing in for digits).
"""

import re
from datetime import date

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


#: The shape of a fiscal code, omocodia letters (L–V for 0–9) allowed in the
#: places of digits.
_MONTHS = "ABCDEHLMPRST"
_SHAPE = re.compile(rf"[A-Z]{{6}}[0-9L-NP-V]{{2}}[{_MONTHS}][0-9L-NP-V]{{2}}[A-Z][0-9L-NP-V]{{3}}[A-Z]")
_OMOCODIA = str.maketrans("LMNPQRSTUV", "0123456789")
#: The check character's values of the characters in odd places (1st, 3rd, …).
_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
                 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23], strict=True))
_EVEN = {**{str(n): n for n in range(10)},
         **{chr(ord("A") + n): n for n in range(26)}}


def check_character(code15):
    """The check character of the first 15 characters of a fiscal code."""
    total = sum(_ODD[c] if i % 2 == 0 else _EVEN[c] for i, c in enumerate(code15))
    return chr(ord("A") + total % 26)


def birth_year(code, today=None):
    """The year of birth a fiscal code tells (omocodia included), else None
    (no code, a malformed one, a wrong check character, no such day). The century is the
    latest that does not put the birth in the future, as python-codicefiscale
    first tries; the birthplace is not looked up (this is arithmetic, for
    lists of citizens: validation on entry is :func:`validate_fiscal_code`)."""
    code = normalise_fiscal_code(code)
    if not _SHAPE.fullmatch(code) or check_character(code[:15]) != code[15]:
        return None
    day = int(code[9:11].translate(_OMOCODIA))
    day = day - 40 if day > 40 else day
    month = _MONTHS.index(code[8]) + 1
    current = (today or date.today()).year
    year = current - current % 100 + int(code[6:8].translate(_OMOCODIA))
    if year > current:
        year -= 100
    for candidate in (year, year - 100):  # 29 February: the century before, if leap
        try:
            date(candidate, month, day)
        except ValueError:
            continue
        return candidate
    return None


def looks_like_fiscal_code(value):
    """True when the normalised value has a fiscal code's shape, check
    character and a real date of birth: arithmetic, a few microseconds, for
    recognising what an operator typed in a search box. Validation on entry
    (a birthplace that exists too) is :func:`is_valid_fiscal_code`, about 3 ms."""
    return birth_year(value) is not None


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
