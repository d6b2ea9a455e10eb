"""Fill empty entries of a .po file from a Python dict {msgid: msgstr}; keeps
existing translations. Usage: python scripts/fill_translations.py DICT.py PO"""

import runpy
import sys

import polib

namespace = runpy.run_path(sys.argv[1])
table, plurals = namespace["T"], namespace.get("P", {})
contextual = namespace.get("CT", {})
po = polib.pofile(sys.argv[2])
for entry in po:
    if entry.msgctxt and (entry.msgctxt, entry.msgid) in contextual:
        if not entry.msgstr or "fuzzy" in entry.flags:
            entry.msgstr = contextual[entry.msgctxt, entry.msgid]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
        continue
    if entry.msgid_plural:
        if entry.msgid in plurals and (not any(entry.msgstr_plural.values())
                                       or "fuzzy" in entry.flags):
            entry.msgstr_plural = dict(plurals[entry.msgid])
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
        continue
    if not entry.msgstr and entry.msgid in table:
        entry.msgstr = table[entry.msgid]
    if "fuzzy" in entry.flags and entry.msgid in table:
        entry.msgstr = table[entry.msgid]  # replace gettext's guess
        entry.flags.remove("fuzzy")
        entry.msgstr = table[entry.msgid]
po.metadata["Language"] = "it"
po.save()
def untranslated(e):
    if "fuzzy" in e.flags:
        return True
    return not all(e.msgstr_plural.values()) if e.msgid_plural else not e.msgstr


missing = [e.msgid for e in po if untranslated(e)]
print(f"{len(po)} entries, {len(missing)} untranslated or fuzzy")
for msgid in missing:
    print("  missing:", repr(msgid))
