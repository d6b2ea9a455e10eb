"""Service-level deadlines in working days (Monday to Friday, Italian national
holidays excluded). Pure functions, no database."""

from datetime import date, timedelta

from django.utils import timezone

# Fixed-date national holidays (month, day).
_FIXED_HOLIDAYS = {
    (1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25), (12, 26),
}


def easter_sunday(year):
    """Gregorian Easter (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    la = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * la) // 451
    month, day = divmod(h + la - 7 * m + 114, 31)
    return date(year, month, day + 1)


def is_working_day(day):
    if day.weekday() >= 5 or (day.month, day.day) in _FIXED_HOLIDAYS:
        return False
    return day != easter_sunday(day.year) + timedelta(days=1)  # Pasquetta


def add_working_days(start, days):
    """``start`` (a datetime) moved forward by ``days`` working days, same time of day.

    Days are counted in the local time zone (``TIME_ZONE``), so a ticket sent
    just after midnight in Rome counts from its Italian date, not the UTC one.
    """
    current = timezone.localtime(start) if timezone.is_aware(start) else start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current.date()):
            remaining -= 1
    return current
