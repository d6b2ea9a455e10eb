"""Each day of figures keeps the changes the check before its computation
found (``FiguresDay.seen``, insight/daily.py): those are in its figures, so a
later check within the margin of them no longer computes the day again."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_helpdesk", "0028_label_open_office"),
    ]

    operations = [
        migrations.AddField(
            model_name="figuresday",
            name="seen",
            field=models.JSONField(blank=True, default=list, editable=False,
                                   verbose_name="changes seen"),
        ),
    ]
