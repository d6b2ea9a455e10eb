"""Fill empty entries of a .po file from a Python dict {msgid: msgstr}; keeps
existing translations. Usage: python scripts/fill_translations.py DICT.py PO"""

import runpy
import sys

import polib

table = runpy.run_path(sys.argv[1])["T"]
po = polib.pofile(sys.argv[2])
for entry in po:
    if not entry.msgstr and entry.msgid in table:
        entry.msgstr = table[entry.msgid]
    if "fuzzy" in entry.flags and entry.msgid in table:
        entry.flags.remove("fuzzy")
        entry.msgstr = table[entry.msgid]
po.metadata["Language"] = "it"
po.save()
missing = [e.msgid for e in po if not e.msgstr or "fuzzy" in e.flags]
print(f"{len(po)} entries, {len(missing)} untranslated or fuzzy")
for msgid in missing:
    print("  missing:", repr(msgid))
