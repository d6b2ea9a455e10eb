from datetime import date, datetime

import pytest

from wagtail_helpdesk.sla import add_working_days, easter_sunday, is_working_day


@pytest.mark.parametrize(("year", "expected"), [(2024, date(2024, 3, 31)),
                                                 (2025, date(2025, 4, 20)),
                                                 (2026, date(2026, 4, 5))])
def test_easter(year, expected):
    assert easter_sunday(year) == expected


def test_holidays_and_weekends_are_not_working_days():
    assert not is_working_day(date(2026, 4, 6))  # Pasquetta
    assert not is_working_day(date(2026, 6, 2))  # Festa della Repubblica
    assert not is_working_day(date(2026, 11, 21))  # Saturday
    assert is_working_day(date(2026, 11, 23))  # Monday


def test_add_working_days_skips_weekend_and_holidays():
    friday = datetime(2026, 12, 4, 10, 30)
    # Sat 5, Sun 6 skipped; Mon 7 (1), Tue 8 is Immacolata (skipped), Wed 9 (2), Thu 10 (3)
    assert add_working_days(friday, 3) == datetime(2026, 12, 10, 10, 30)
    assert add_working_days(friday, 0) == friday


def test_days_are_counted_in_local_time(settings):
    from datetime import UTC

    from django.utils import timezone

    settings.TIME_ZONE = "Europe/Rome"
    # Saturday 23:30 UTC is already Sunday 00:30 in Rome: the next working day is Monday.
    saturday_night_utc = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    due = add_working_days(saturday_night_utc, 1)
    assert timezone.localtime(due).date() == date(2026, 11, 23)
    assert due == saturday_night_utc + (date(2026, 11, 23) - date(2026, 11, 22))
