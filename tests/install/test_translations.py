"""locale/it is complete and compiled; Italian is what users get by default."""

from pathlib import Path

import polib
from django.utils import translation

import wagtail_helpdesk
from wagtail_helpdesk.workflow import Status

PO = Path(wagtail_helpdesk.__file__).parent / "locale/it/LC_MESSAGES/django.po"


def translations(entry):
    if entry.msgid_plural:
        return [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def test_every_string_is_translated():
    po = polib.pofile(str(PO))
    assert len(po) > 150
    assert [e.msgid for e in po if "fuzzy" in e.flags or not all(translations(e))] == []
    assert any(e.msgid_plural for e in po)  # plural forms are covered too


def test_compiled_catalogue_matches_the_source():
    po = {(e.msgctxt, e.msgid): translations(e) for e in polib.pofile(str(PO))}
    mo = {(e.msgctxt, e.msgid): translations(e)
          for e in polib.mofile(str(PO.with_suffix(".mo"))) if e.msgid}
    assert po == mo


def test_placeholders_survive_translation():
    import re

    pattern = re.compile(r"%\(\w+\)[sd]|%s")
    for entry in polib.pofile(str(PO)):
        # Italian has two forms: the singular's placeholders are the msgid's, the
        # plural's those of msgid_plural (which may add the count).
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        for index, text in enumerate(translations(entry)):
            source = sources[min(index, len(sources) - 1)]
            expected = sorted(set(pattern.findall(source)))
            assert sorted(set(pattern.findall(text))) == expected, entry.msgid


def test_status_labels_in_italian():
    with translation.override("it"):
        assert [str(s.label) for s in Status] == [
            "Bozza", "In sospeso", "Presa in carico", "In attesa del cittadino", "Risolta",
        ]
