"""Preload the 16 Designers Italia service categories and the resolution types.

Editors can rename, reorder or deactivate them; this migration only creates
rows that are missing (matched by slug), so it never overwrites their edits.
"""

from django.db import migrations

SERVICE_CATEGORIES = [
    ("agricoltura-e-pesca", "Agricoltura e pesca"),
    ("ambiente", "Ambiente"),
    ("anagrafe-e-stato-civile", "Anagrafe e stato civile"),
    ("appalti-pubblici", "Appalti pubblici"),
    ("autorizzazioni", "Autorizzazioni"),
    ("catasto-e-urbanistica", "Catasto e urbanistica"),
    ("cultura-e-tempo-libero", "Cultura e tempo libero"),
    ("educazione-e-formazione", "Educazione e formazione"),
    ("giustizia-e-sicurezza-pubblica", "Giustizia e sicurezza pubblica"),
    ("imprese-e-commercio", "Imprese e commercio"),
    ("mobilita-e-trasporti", "Mobilità e trasporti"),
    ("relazioni-con-il-pubblico", "Relazioni con il pubblico"),
    ("salute-benessere-e-assistenza", "Salute, benessere e assistenza"),
    ("tributi-finanze-e-contravvenzioni", "Tributi, finanze e contravvenzioni"),
    ("turismo", "Turismo"),
    ("vita-lavorativa", "Vita lavorativa"),
]

RESOLUTION_TYPES = [
    # slug, name, counts as solved
    ("risolta", "Risolta", True),
    ("non-di-competenza", "Non di competenza", False),
    ("duplicata", "Duplicata", False),
    ("respinta", "Respinta", False),
    ("annullata-su-richiesta", "Annullata su richiesta del cittadino", False),
]


def load(apps, schema_editor):
    ServiceCategory = apps.get_model("wagtail_helpdesk", "ServiceCategory")
    ResolutionType = apps.get_model("wagtail_helpdesk", "ResolutionType")
    for order, (slug, name) in enumerate(SERVICE_CATEGORIES, start=1):
        ServiceCategory.objects.get_or_create(
            slug=slug, defaults={"name": name, "sort_order": order * 10}
        )
    for order, (slug, name, solved) in enumerate(RESOLUTION_TYPES, start=1):
        ResolutionType.objects.get_or_create(
            slug=slug, defaults={"name": name, "counts_as_solved": solved, "sort_order": order * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("wagtail_helpdesk", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
