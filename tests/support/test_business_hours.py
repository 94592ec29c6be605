from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from support.business_hours import (
    Calendar,
    add_business_time,
    business_time_between,
    country_holidays,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
H = dt.timedelta(hours=1)


def at(tz: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)  # type: ignore[misc]


def test_adds_within_one_working_day():
    cal = Calendar(tz=SHANGHAI)
    assert add_business_time(cal, at(SHANGHAI, 2026, 11, 30, 10), 4 * H) == at(
        SHANGHAI, 2026, 11, 30, 14
    )


def test_rolls_over_the_evening_into_the_next_morning():
    cal = Calendar(tz=SHANGHAI)
    # Monday 16:00 + 4h: 2h Monday, 2h Tuesday from 09:00.
    assert add_business_time(cal, at(SHANGHAI, 2026, 11, 30, 16), 4 * H) == at(
        SHANGHAI, 2026, 12, 1, 11
    )


def test_skips_the_weekend():
    cal = Calendar(tz=SHANGHAI)
    # Friday 17:00 + 2h -> Monday 10:00.
    assert add_business_time(cal, at(SHANGHAI, 2026, 12, 4, 17), 2 * H) == at(
        SHANGHAI, 2026, 12, 7, 10
    )


def test_start_outside_hours_begins_at_next_opening():
    cal = Calendar(tz=SHANGHAI)
    assert add_business_time(cal, at(SHANGHAI, 2026, 12, 5, 23), H) == at(SHANGHAI, 2026, 12, 7, 10)
    assert add_business_time(cal, at(SHANGHAI, 2026, 12, 1, 7), dt.timedelta(0)) == at(
        SHANGHAI, 2026, 12, 1, 9
    )


def test_skips_holidays_from_the_holidays_package():
    days = country_holidays("CN", (2026,))
    assert dt.date(2026, 10, 1) in days  # National Day
    cal = Calendar(tz=SHANGHAI, holidays=days)
    # Wednesday 30 September 17:00 + 2h: National Day week is off (1-7 Oct; the 8th works).
    due = add_business_time(cal, at(SHANGHAI, 2026, 9, 30, 17), 2 * H)
    assert due.date() > dt.date(2026, 10, 7)
    assert due.time() == dt.time(10)


def test_unknown_country_has_no_holidays():
    assert country_holidays("XX", (2026,)) == frozenset()


def test_dst_spring_forward_day_counts_real_hours():
    # Berlin 29 March 2026: clocks go 02:00 -> 03:00. Working from 00:00 to 06:00 local is
    # five real hours that day.
    cal = Calendar(tz=BERLIN, start=dt.time(0), end=dt.time(6), work_days=(6,))
    day_start = at(BERLIN, 2026, 3, 29, 0)
    assert business_time_between(cal, day_start, at(BERLIN, 2026, 3, 29, 23)) == 5 * H
    assert add_business_time(cal, day_start, 5 * H) == at(BERLIN, 2026, 3, 29, 6)


def test_dst_does_not_shift_wall_clock_opening():
    cal = Calendar(tz=BERLIN)
    # Friday 27 March 17:00 CET + 2h -> Monday 30 March 10:00 CEST (wall clock).
    due = add_business_time(cal, at(BERLIN, 2026, 3, 27, 17), 2 * H)
    assert due == at(BERLIN, 2026, 3, 30, 10)
    assert due.utcoffset() == 2 * H


def test_other_time_zone_input_is_converted():
    cal = Calendar(tz=SHANGHAI)
    # 02:00 UTC Monday = 10:00 Shanghai.
    start = dt.datetime(2026, 11, 30, 2, tzinfo=dt.UTC)
    assert add_business_time(cal, start, H) == at(SHANGHAI, 2026, 11, 30, 11)


def test_between_counts_only_working_time_and_inverts_add():
    cal = Calendar(tz=SHANGHAI, holidays=country_holidays("CN", (2026,)))
    start = at(SHANGHAI, 2026, 12, 3, 15, 30)
    for hours in (0, 1, 7, 9, 30, 100):
        due = add_business_time(cal, start, hours * H)
        assert business_time_between(cal, start, due) == hours * H


def test_between_subtracts_pauses_once_even_when_they_overlap():
    cal = Calendar(tz=SHANGHAI)
    start, end = at(SHANGHAI, 2026, 11, 30, 9), at(SHANGHAI, 2026, 11, 30, 18)
    pauses = [
        (at(SHANGHAI, 2026, 11, 30, 10), at(SHANGHAI, 2026, 11, 30, 12)),
        (at(SHANGHAI, 2026, 11, 30, 11), at(SHANGHAI, 2026, 11, 30, 13)),
        (at(SHANGHAI, 2026, 11, 29, 10), at(SHANGHAI, 2026, 11, 29, 12)),  # Sunday: no effect
    ]
    assert business_time_between(cal, start, end, pauses) == 6 * H


def test_end_before_start_is_zero():
    cal = Calendar(tz=SHANGHAI)
    assert business_time_between(
        cal, at(SHANGHAI, 2026, 11, 30, 12), at(SHANGHAI, 2026, 11, 30, 10)
    ) == dt.timedelta(0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="end after"):
        Calendar(tz=SHANGHAI, start=dt.time(18), end=dt.time(9))
    cal = Calendar(tz=SHANGHAI)
    with pytest.raises(ValueError, match="aware"):
        add_business_time(cal, dt.datetime(2026, 11, 30, 10), H)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        add_business_time(cal, at(SHANGHAI, 2026, 11, 30, 10), -H)
