"""The workflow table, pair by pair, and every guard (pure: no database)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from wagtail_helpdesk import workflow
from wagtail_helpdesk.errors import GuardFailed, TransitionNotAllowed
from wagtail_helpdesk.workflow import Action, Status

D, N, P, W, R = "draft", "new", "in_progress", "waiting", "resolved"
X = None  # refused

# Written out by hand from the specification (not derived from workflow.TRANSITIONS).
EXPECTED = {
    #                      draft new  in_progress waiting resolved
    Action.SUBMIT:          (N,   X,   X,          X,      X),
    Action.EDIT_DRAFT:      (D,   X,   X,          X,      X),
    Action.DELETE_DRAFT:    (D,   X,   X,          X,      X),
    Action.TAKE_CHARGE:     (X,   P,   P,          W,      X),
    Action.ASSIGN:          (X,   P,   P,          W,      X),
    Action.TRANSFER:        (X,   N,   N,          N,      X),
    Action.REPLY:           (X,   P,   P,          W,      X),
    Action.CITIZEN_MESSAGE: (X,   N,   P,          P,      P),
    Action.NOTE:            (D,   N,   P,          W,      R),
    Action.SET_PRIORITY:    (D,   N,   P,          W,      X),
    Action.MARK_WAITING:    (X,   X,   W,          X,      X),
    Action.RESOLVE:         (X,   X,   R,          R,      X),
    Action.REOPEN:          (X,   X,   X,          X,      P),
    Action.ADD_ATTACHMENT:  (D,   N,   P,          W,      X),
}
STATUSES = (D, N, P, W, R)
PAIRS = [
    (action, status, EXPECTED[action][i]) for action in Action for i, status in enumerate(STATUSES)
]


def test_every_action_is_in_the_expected_table():
    assert set(EXPECTED) == set(Action)
    assert set(STATUSES) == set(Status.values)


@pytest.mark.parametrize(("action", "status", "expected"), PAIRS,
                         ids=[f"{a.value}-from-{s}" for a, s, _ in PAIRS])
def test_transition_table(action, status, expected):
    if expected is None:
        with pytest.raises(TransitionNotAllowed) as exc:
            workflow.target_status(status, action)
        # The refusal names the action and the status, in words.
        assert str(Status(status).label) in str(exc.value.message)
        assert action not in workflow.allowed_actions(status)
    else:
        assert workflow.target_status(status, action) == expected
        assert action in workflow.allowed_actions(status)


def make_ticket(**overrides):
    base = {
        "kind": "request", "status": N, "service_id": 1, "report_category_id": None, "office_id": 1,
        "subject": "Iscrizione mensa", "description": "Non trovo il modulo", "citizen_id": 1,
        "latitude": None, "longitude": None, "address": "", "resolution_type_id": None,
        "resolution_text": "", "resolved_at": None, "assignee_id": None,
    }
    base.update(overrides)
    return SimpleNamespace(**base)


def make_report(**overrides):
    values = {"kind": "report", "service_id": None, "report_category_id": 3, "subject": "Buca",
                  "citizen_id": None, "latitude": 45.1, "longitude": 7.6}
    values.update(overrides)
    return make_ticket(**values)


def test_complete_request_and_report_have_no_missing_fields():
    assert workflow.missing_fields(make_ticket()) == []
    assert workflow.missing_fields(make_report()) == []


@pytest.mark.parametrize(
    ("ticket", "missing"),
    [
        (make_ticket(service_id=None), ["service"]),
        (make_ticket(office_id=None), ["office"]),
        (make_ticket(description="   "), ["description"]),
        (make_ticket(citizen_id=None), ["citizen"]),
        (make_report(report_category_id=None), ["report_category"]),
        (make_report(subject=""), ["subject"]),
        (make_report(latitude=None, longitude=None), ["location"]),
        (make_report(latitude=45.1, longitude=None), ["location"]),
        (make_ticket(service_id=None, description=""), ["service", "description"]),
    ],
)
def test_missing_fields(ticket, missing):
    assert workflow.missing_fields(ticket) == missing


def test_report_with_only_an_address_is_complete():
    assert workflow.missing_fields(make_report(latitude=None, longitude=None,
                                               address="Via Roma 12")) == []


def test_submit_guard_lists_missing_fields():
    with pytest.raises(GuardFailed) as exc:
        workflow.check(make_ticket(status=D, service_id=None), Action.SUBMIT)
    assert set(exc.value.field_errors) == {"service"}
    assert workflow.check(make_ticket(status=D), Action.SUBMIT) == N


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({}, {"resolution_type", "resolution_text"}),
        ({"resolution_type_id": 1}, {"resolution_text"}),
        ({"resolution_text": "Fatto"}, {"resolution_type"}),
        ({"resolution_type_id": 1, "resolution_text": "  "}, {"resolution_text"}),
        ({"resolution_type_id": 1, "resolution_text": "Fatto", "description": ""}, {"description"}),
    ],
)
def test_resolve_guard(overrides, fields):
    with pytest.raises(GuardFailed) as exc:
        workflow.check(make_ticket(status=P, **overrides), Action.RESOLVE)
    assert set(exc.value.field_errors) == fields


def test_resolve_with_everything_is_allowed():
    ticket = make_ticket(status=W, resolution_type_id=1, resolution_text="Fatto")
    assert workflow.check(ticket, Action.RESOLVE) == R


def test_citizen_message_reopens_only_within_the_window():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    recent = make_ticket(status=R, resolved_at=now - timedelta(days=29))
    old = make_ticket(status=R, resolved_at=now - timedelta(days=31))
    assert workflow.check(recent, Action.CITIZEN_MESSAGE, now=now, reopen_window_days=30) == P
    with pytest.raises(GuardFailed) as exc:
        workflow.check(old, Action.CITIZEN_MESSAGE, now=now, reopen_window_days=30)
    assert "30" in str(exc.value.message)
    # A zero-day window means resolved tickets cannot be reopened by the citizen.
    with pytest.raises(GuardFailed):
        workflow.check(recent, Action.CITIZEN_MESSAGE, now=now, reopen_window_days=0)


def test_assign_guard():
    with pytest.raises(GuardFailed) as exc:
        workflow.check(make_ticket(), Action.ASSIGN)
    assert "assignee" in exc.value.field_errors
    with pytest.raises(GuardFailed):
        workflow.check(make_ticket(status=P, assignee_id=7), Action.ASSIGN, assignee_id=7)
    assert workflow.check(make_ticket(), Action.ASSIGN, assignee_id=7) == P


def test_take_charge_guard_refuses_own_ticket():
    with pytest.raises(GuardFailed):
        workflow.check(make_ticket(status=P, assignee_id=5), Action.TAKE_CHARGE, actor_id=5)
    assert workflow.check(make_ticket(status=P, assignee_id=5), Action.TAKE_CHARGE,
                          actor_id=6) == P


def test_transfer_guard():
    with pytest.raises(GuardFailed) as exc:
        workflow.check(make_ticket(status=P), Action.TRANSFER)
    assert "office" in exc.value.field_errors
    with pytest.raises(GuardFailed):
        workflow.check(make_ticket(status=P, office_id=1), Action.TRANSFER, office_id=1)
    assert workflow.check(make_ticket(status=P), Action.TRANSFER, office_id=2) == N


def test_status_check_comes_before_guards():
    # A resolved ticket cannot be resolved again, whatever its fields.
    with pytest.raises(TransitionNotAllowed):
        workflow.check(make_ticket(status=R), Action.RESOLVE)
