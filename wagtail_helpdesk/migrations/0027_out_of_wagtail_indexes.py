"""The helpdesk's records leave Wagtail's reference index and citizens leave
its search index (apps.py, models/citizens.py): remove the rows written
before. Nothing reads them; erasing them also removes a copy of citizens'
names."""

from django.db import migrations

#: Settings models stay in the reference index (they name pages).
SETTINGS = {"helpdesksettings", "assistsettings", "opendatasettings"}


def forget(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ours = ContentType.objects.filter(app_label="wagtail_helpdesk")
    records = ours.exclude(model__in=SETTINGS)
    try:
        ReferenceIndex = apps.get_model("wagtailcore", "ReferenceIndex")
    except LookupError:
        pass
    else:
        ReferenceIndex.objects.filter(base_content_type__in=records).delete()
        ReferenceIndex.objects.filter(content_type__in=records).delete()
    try:
        IndexEntry = apps.get_model("wagtailsearch", "IndexEntry")
    except LookupError:
        return
    IndexEntry.objects.filter(content_type__in=ours.filter(model="citizen")).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_helpdesk", "0026_ticket_exports"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0001_initial"),
        ("wagtailsearch", "0001_initial"),
    ]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop, elidable=True)]
