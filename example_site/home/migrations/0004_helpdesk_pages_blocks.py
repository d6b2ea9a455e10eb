"""Put the helpdesk form blocks on the "Richiedi assistenza" and "Segnala
disservizio" pages."""

import json
import uuid

from django.db import migrations

BLOCKS = {
    "richiedi-assistenza": {
        "type": "assistance_request",
        "value": {"heading": "Richiesta di assistenza",
                  "intro": "Compila il modulo in tre passaggi: ti risponderemo via e-mail.",
                  "privacy_page": None, "login_policy": "optional", "attachments_allowed": True,
                  "max_attachments": 3, "service_categories": [], "services": [],
                  "max_description": 600},
    },
    "segnala-disservizio": {
        "type": "report",
        "value": {"heading": "Segnalazione disservizio",
                  "intro": "Indica il luogo sulla mappa o con l'indirizzo, descrivi il problema "
                           "e, se puoi, allega una foto.",
                  "privacy_page": None, "login_policy": "optional", "attachments_allowed": True,
                  "max_attachments": 3, "report_categories": [], "max_description": 1000,
                  "map_zoom": 14, "map_centre": "SRID=4326;POINT(12.4964 41.9028)",
                  "area_bbox": "6.6,36.6,18.6,47.1", "area_geojson": "", "area_file": None,
                  "nearby_radius": 250},
    },
}


def add_blocks(apps, schema_editor):
    StandardPage = apps.get_model("home", "StandardPage")
    for slug, block in BLOCKS.items():
        page = StandardPage.objects.filter(slug=slug).first()
        if page is None:
            continue
        body = [{**block, "id": str(uuid.uuid4())}]
        StandardPage.objects.filter(pk=page.pk).update(body=json.dumps(body))


class Migration(migrations.Migration):
    dependencies = [("home", "0003_helpdesk_blocks")]
    operations = [migrations.RunPython(add_blocks, migrations.RunPython.noop)]
