"""Business-time arithmetic: pure functions, no database.

A `Calendar` is a time zone, working weekdays, the working day's wall-clock hours and a set of
holiday dates. Working intervals are built per local day from wall-clock times
(`datetime.combine(day, 09:00, tz)`) and measured in UTC, so a day whose clock changes (DST)
still opens and closes at the local hours and counts the real time elapsed in between.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

WEEKDAYS = (0, 1, 2, 3, 4)
# No calendar runs more than ten years without a working day; stops runaway loops on a bad one.
_MAX_DAYS = 3660


@dataclass(frozen=True)
class Calendar:
    tz: ZoneInfo
    start: dt.time = dt.time(9)
    end: dt.time = dt.time(18)
    work_days: tuple[int, ...] = WEEKDAYS
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("the working day must end after it starts")
        if not self.work_days:
            raise ValueError("a calendar needs at least one working day")

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.work_days and day not in self.holidays

    def interval(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The day's working hours, in UTC: Python subtracts two datetimes of the same tzinfo by
        wall clock, which would count a DST day's lost or extra hour wrongly."""
        return (
            dt.datetime.combine(day, self.start, tzinfo=self.tz).astimezone(dt.UTC),
            dt.datetime.combine(day, self.end, tzinfo=self.tz).astimezone(dt.UTC),
        )


@lru_cache(maxsize=64)
def country_holidays(country: str, years: tuple[int, ...]) -> frozenset[dt.date]:
    """Public holidays of `country` (ISO code) in `years`, from the `holidays` package; an unknown
    country has none."""
    try:
        return frozenset(holidays_lib.country_holidays(country, years=years).keys())
    except NotImplementedError:
        return frozenset()


def _working_intervals(
    calendar: Calendar, start: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Working intervals from `start` on, clipped so none begins before `start`."""
    start = start.astimezone(dt.UTC)
    day = start.astimezone(calendar.tz).date() - dt.timedelta(days=1)
    for _ in range(_MAX_DAYS):
        if calendar.is_working_day(day):
            opens, closes = calendar.interval(day)
            if closes > start:
                yield max(opens, start), closes
        day += dt.timedelta(days=1)
    raise ValueError("no working time within ten years")


def add_business_time(calendar: Calendar, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The instant `amount` of working time after `start` (aware). A zero amount gives `start`
    moved to the next working instant when it falls outside working hours."""
    if start.tzinfo is None:
        raise ValueError("start must be aware")
    if amount < dt.timedelta(0):
        raise ValueError("amount must not be negative")
    remaining = amount
    for opens, closes in _working_intervals(calendar, start):
        available = closes - opens
        if remaining <= available:
            return (opens + remaining).astimezone(calendar.tz)
        remaining -= available
    raise AssertionError("unreachable")  # _working_intervals raises first


def business_time_between(
    calendar: Calendar,
    start: dt.datetime,
    end: dt.datetime,
    pauses: Iterable[tuple[dt.datetime, dt.datetime]] = (),
) -> dt.timedelta:
    """Working time from `start` to `end`, not counting the `pauses` (start, end pairs, may
    overlap each other or lie outside the range). Zero when `end` is not after `start`."""
    total = dt.timedelta(0)
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if end <= start:
        return total
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    utc_pauses = [(a.astimezone(dt.UTC), b.astimezone(dt.UTC)) for a, b in pauses]
    for p_start, p_end in sorted(utc_pauses):
        if merged and p_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], p_end))
        else:
            merged.append((p_start, p_end))
    for opens, closes in _working_intervals(calendar, start):
        if opens >= end:
            break
        closes = min(closes, end)
        total += closes - opens
        for p_start, p_end in merged:
            overlap = min(closes, p_end) - max(opens, p_start)
            if overlap > dt.timedelta(0):
                total -= overlap
    return total
