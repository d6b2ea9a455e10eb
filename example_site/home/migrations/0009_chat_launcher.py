"""Put the live chat's launcher on the home page."""

import json
import uuid

from django.db import migrations

CHAT = {
    "type": "chat",
    "value": {"heading": "Chatta con un operatore",
              "intro": "Hai una domanda su un servizio del Comune? Scrivi a un operatore: "
                       "se nessuno è disponibile, la tua domanda diventa una richiesta e ti "
                       "rispondiamo per e-mail.",
              "service_categories": [], "services": [], "privacy_page": None,
              "inactivity_minutes": 10},
}


def add_launcher(apps, schema_editor):
    HomePage = apps.get_model("home", "HomePage")
    for page in HomePage.objects.all():
        body = list(page.body.raw_data)
        if any(block.get("type") == "chat" for block in body):
            continue
        body.append({**CHAT, "id": str(uuid.uuid4())})
        HomePage.objects.filter(pk=page.pk).update(body=json.dumps(body))


class Migration(migrations.Migration):
    dependencies = [("home", "0008_chat_launcher_block")]
    operations = [migrations.RunPython(add_launcher, migrations.RunPython.noop)]
