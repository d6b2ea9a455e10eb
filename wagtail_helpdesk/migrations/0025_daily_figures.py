"""Daily aggregates for the supervisors' dashboard, and the open-ticket
indexes the dashboard and the Helpdesk menu's figure count with (issue 20)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

OPEN = ["new", "in_progress", "waiting"]


class Migration(migrations.Migration):
    dependencies = [("wagtail_helpdesk", "0024_search_indexes")]

    operations = [
        migrations.CreateModel(
            name="FiguresDay",
            fields=[
                ("day", models.DateField(primary_key=True, serialize=False, verbose_name="day")),
                ("computed_at", models.DateTimeField(default=django.utils.timezone.now,
                                                     verbose_name="computed")),
                ("checked_at", models.DateTimeField(default=django.utils.timezone.now,
                                                    verbose_name="checked")),
                ("time_zone", models.CharField(max_length=64, verbose_name="time zone")),
            ],
            options={"verbose_name": "day of figures", "verbose_name_plural": "days of figures"},
        ),
        migrations.CreateModel(
            name="DailyFigures",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("day", models.DateField(verbose_name="day")),
                ("opened", models.PositiveIntegerField(default=0)),
                ("first_responses", models.PositiveIntegerField(default=0)),
                ("first_response_us", models.BigIntegerField(default=0)),
                ("resolved", models.PositiveIntegerField(default=0)),
                ("resolutions", models.PositiveIntegerField(default=0)),
                ("resolution_us", models.BigIntegerField(default=0)),
                ("ratings", models.PositiveIntegerField(default=0)),
                ("scored", models.PositiveIntegerField(default=0)),
                ("score_sum", models.FloatField(default=0)),
                ("office", models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, related_name="+",
                    to="wagtail_helpdesk.office", verbose_name="office")),
                ("resolution_type", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                    related_name="+", to="wagtail_helpdesk.resolutiontype",
                    verbose_name="resolution type")),
            ],
            options={
                "verbose_name": "daily figures",
                "verbose_name_plural": "daily figures",
                "indexes": [models.Index(fields=["day", "office"], name="helpdesk_daily_day")],
            },
        ),
        # The open tickets' figures (backlog, per office, per operator) and
        # their ids (the labels on open tickets), read from the index alone on
        # PostgreSQL (INCLUDE; a plain partial index elsewhere).
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["office", "assignee", "status"], name="helpdesk_t_open_work",
                include=["due_at", "unread_count", "submitted_at", "created_by",
                         "opened_by_citizen", "id"],
                condition=models.Q(status__in=OPEN)),
        ),
        # The Helpdesk menu's figure: pending tickets nobody took…
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["office", "submitted_at"], name="helpdesk_t_pending",
                include=["created_by", "opened_by_citizen"],
                condition=models.Q(status="new", assignee__isnull=True)),
        ),
        # … and unread citizen messages on one's own open tickets.
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["assignee"], name="helpdesk_t_unread",
                include=["unread_count", "office", "created_by", "opened_by_citizen"],
                condition=models.Q(status__in=OPEN, unread_count__gt=0)),
        ),
        # Tickets without an office (counted live by the dashboard).
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["created_by"], name="helpdesk_t_no_office",
                               condition=models.Q(office__isnull=True)),
        ),
    ]
