"""The attributes of a service (its extra questions): their definitions for
``services/{code}`` and the checking of the answers a POST sends as
``attribute[code]=value`` (``attribute[code][]=value`` for several).

Report categories have no extra questions of their own in the catalogue, so
a service's attributes are:

* ``fixmystreet_id`` on every service, filled by FixMyStreet itself
  (``automated: server_set``): FixMyStreet sends its report's id only for an
  attribute the service declares, and the id makes its retries idempotent;
* those the site configures in ``WAGTAIL_HELPDESK_OPEN311_ATTRIBUTES`` for a
  category (by slug) or for every one (``"*"``).
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..conf import get_setting
from .errors import Open311Error
from .params import DESCRIPTION_MAX, parse_datetime

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")
FIXMYSTREET_ID = "fixmystreet_id"
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
#: Longest answer accepted, per datatype (a text as long as a description).
_MAX_LENGTH = {"string": 255, "text": DESCRIPTION_MAX}


@dataclass
class Attribute:
    code: str
    description: str
    datatype: str = "string"
    required: bool = False
    variable: bool = True
    datatype_description: str = ""
    order: int = 0
    values: list = field(default_factory=list)  # [(key, name)]
    automated: str = ""

    def as_dict(self):
        out = {
            "variable": self.variable, "code": self.code, "datatype": self.datatype,
            "required": self.required, "datatype_description": self.datatype_description or None,
            "order": self.order, "description": str(self.description),
        }
        if self.datatype in LISTS:
            out["values"] = [{"key": key, "name": name} for key, name in self.values]
        if self.automated:
            out["automated"] = self.automated
        return out


def _fixmystreet_id():
    return Attribute(
        code=FIXMYSTREET_ID, variable=False, automated="server_set", order=1000,
        description=gettext_lazy("The report's id on FixMyStreet (sent by FixMyStreet)"),
    )


def parse_config(entry, order):
    """One configured attribute (a dict) → :class:`Attribute`; raises
    ImproperlyConfigured saying what is wrong."""
    if not isinstance(entry, dict):
        raise ImproperlyConfigured("each Open311 attribute is a dict")
    code = str(entry.get("code", ""))
    if not _CODE.match(code) or code == FIXMYSTREET_ID:
        raise ImproperlyConfigured(f"Open311 attribute code {code!r} is not valid")
    datatype = entry.get("datatype", "string")
    if datatype not in DATATYPES:
        raise ImproperlyConfigured(f"Open311 attribute {code}: unknown datatype {datatype!r}")
    values = entry.get("values") or []
    try:
        values = [(str(v["key"]), str(v["name"])) for v in values]
    except (TypeError, KeyError) as exc:
        raise ImproperlyConfigured(f"Open311 attribute {code}: values are "
                                   "[{'key': …, 'name': …}]") from exc
    if datatype in LISTS and not values:
        raise ImproperlyConfigured(f"Open311 attribute {code}: a list needs its values")
    return Attribute(
        code=code, description=entry.get("description") or code, datatype=datatype,
        required=bool(entry.get("required", False)),
        datatype_description=str(entry.get("datatype_description") or ""),
        order=int(entry.get("order", order)), values=values,
    )


def configured(slug):
    config = get_setting("OPEN311_ATTRIBUTES") or {}
    entries = [*config.get("*", []), *config.get(slug, [])]
    return [parse_config(entry, position) for position, entry in enumerate(entries, start=1)]


def for_category(category):
    """The attributes of a report category's service, in their order."""
    return sorted([*configured(category.slug), _fixmystreet_id()], key=lambda a: a.order)


@dataclass
class Answer:
    attribute: Attribute
    value: object  # str, Decimal, datetime or list of keys

    def shown(self):
        """The answer as operators read it in the description."""
        names = dict(self.attribute.values)
        if isinstance(self.value, list):
            return ", ".join(names.get(v, v) for v in self.value)
        return names.get(self.value, str(self.value))


def _raw(data, attribute):
    name = f"attribute[{attribute.code}]"
    if attribute.datatype == "multivaluelist":
        values = data.getlist(name + "[]") or data.getlist(name)
        return [v.strip() for v in values if v.strip()]
    return (data.get(name) or "").strip()


def _convert(attribute, raw):
    """The answer in its datatype, or raise ValueError with the reason."""
    kind = attribute.datatype
    if kind in _MAX_LENGTH:
        if len(raw) > _MAX_LENGTH[kind]:
            raise ValueError(_("at most %(limit)d characters") % {"limit": _MAX_LENGTH[kind]})
        return raw
    if kind == "number":
        try:
            number = Decimal(raw.replace(",", "."))
        except InvalidOperation as exc:
            raise ValueError(_("a number")) from exc
        if not number.is_finite():
            raise ValueError(_("a number"))
        return number
    if kind == "datetime":
        return parse_datetime({"value": raw}, "value")
    keys = {key for key, _name in attribute.values}
    chosen = raw if isinstance(raw, list) else [raw]
    if any(value not in keys for value in chosen):
        raise ValueError(_("one of: %(keys)s") % {"keys": ", ".join(sorted(keys))})
    return chosen if kind == "multivaluelist" else raw


def clean_answers(attributes, data):
    """``(answers, errors)``: the answers given to the variable attributes
    (missing optional ones left out) and a list of error descriptions."""
    answers, errors = [], []
    for attribute in attributes:
        if not attribute.variable:
            continue
        raw = _raw(data, attribute)
        name = f"attribute[{attribute.code}]"
        if not raw:
            if attribute.required:
                errors.append(_("%(name)s is required: %(question)s")
                              % {"name": name, "question": attribute.description})
            continue
        try:
            answers.append(Answer(attribute, _convert(attribute, raw)))
        except Open311Error:
            errors.append(_("%(name)s must be a date and time (ISO 8601).") % {"name": name})
        except ValueError as exc:
            errors.append(_("%(name)s must be %(what)s.") % {"name": name, "what": exc})
    return answers, errors
