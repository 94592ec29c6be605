"""The statistical forecast: what will be won per month, from the stage history, with its
measured accuracy.

The method (made as of the first day of a month T, for T and the months after):

* **Snapshots.** At the first day of every past month t, every open deal is in a stage S and
  has been there for an age a (under 30 days, 30-89, 90 and more). From `StageChange` we know
  whether and in which month t+k it was won. So `p_k(S, a)`, the chance that a deal in stage S
  of age a on the first of a month is won k months later, is measured, not estimated: the won
  ones over all of them, counted over the snapshots of the last `LOOKBACK` months whose month
  t+k had ended by T (so nothing unknown at T is used). A cell with fewer than `MIN_CELL`
  deals borrows the stage's rate over all ages, then every open stage's.
* **Open pipeline.** The deals open at T, valued: sum of amount x p_k(S, a).
* **New business.** Deals that do not exist yet at T are won too: the run-rate is the mean,
  over the last `RUN_RATE_MONTHS` snapshots, of what was won in month t+k by deals created on
  or after t.
* **Baseline.** The naive forecast to beat: the mean of the last `BASELINE_MONTHS` months won.
* **Backtest.** Each of the `BACKTEST_MONTHS` months before T is forecast as of its own first
  day with only what was known then, and compared with what was won: the mean absolute
  percentage error (MAPE) of the method and of the baseline. Fewer than `MIN_HISTORY` months
  of history before the first backtest month: the run says the history is too short and shows
  no number.

Rates are pooled over the whole company (more data); each team's forecast applies them to its
own open pipeline and its own run-rate. Amounts are historical: a deal open on the first of a
month is valued at the amount (and currency) it had when it entered the stage it was in, and a
win at the amount it was won at, both recorded on its `StageChange` rows, so a backtest month
sees only amounts known then (changes recorded before amounts were kept use the deal's current
amount). They are converted to the reporting currency at the rate of the first day of the
month concerned (`sales.currency`).
Archived deals are left out. The whole history is read in two aggregate queries
(`load_history`); everything else is arithmetic on their rows (`Forecaster`), so tests can check
it against hand-computed numbers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sales.currency import MissingRate, RateBook
from sales.models import (
    ForecastAccuracy,
    ForecastLine,
    ForecastLineKind,
    ForecastRun,
    ForecastRunStatus,
)

LOOKBACK = 24  # months of snapshots the rates are measured over
HORIZON = 3  # months forecast: T, T+1, T+2
MAX_K = 24  # wins later than this many months after a snapshot are not counted
MIN_CELL = 10  # deals a (stage, age) cell needs before its own rate is used
RUN_RATE_MONTHS = 6
BASELINE_MONTHS = 3
BACKTEST_MONTHS = 6
MIN_HISTORY = 6  # months of snapshots needed before the first month forecast
AGE_BUCKETS = (30, 90)  # days: [0, 30), [30, 90), [90, ...)
CENT = Decimal("0.01")

Team = int | None  # None: the whole company


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass
class History:
    """The aggregates the method works on (see `load_history`), amounts in one currency.

    cells[(t, team, stage, age)] = deals open on the first of month t
    wins[(t, team, stage, age, k)] = of those, how many were won in month t + k
    open_amount[(t, team, stage, age)] = their amount
    new_won[(t, team, k)] = won in month t + k by deals created on or after the first of t
    actual[(m, team)] = won in month m
    """

    cells: dict[tuple[int, Team, int, int], int] = field(default_factory=dict)
    wins: dict[tuple[int, Team, int, int, int], int] = field(default_factory=dict)
    open_amount: dict[tuple[int, Team, int, int], Decimal] = field(default_factory=dict)
    new_won: dict[tuple[int, Team, int], Decimal] = field(default_factory=dict)
    actual: dict[tuple[int, Team], Decimal] = field(default_factory=dict)
    first_month: int | None = None

    def add_snapshot(
        self, t: int, team: Team, stage: int, age: int, k: int | None, count: int, amount: Decimal
    ) -> None:
        for who in {team, None}:
            cell = (t, who, stage, age)
            self.cells[cell] = self.cells.get(cell, 0) + count
            self.open_amount[cell] = self.open_amount.get(cell, Decimal(0)) + amount
            if k is not None and 0 <= k <= MAX_K:
                key = (t, who, stage, age, k)
                self.wins[key] = self.wins.get(key, 0) + count
        self.first_month = t if self.first_month is None else min(self.first_month, t)

    def add_win(self, month: int, team: Team, created: int, amount: Decimal) -> None:
        for who in {team, None}:
            self.actual[(month, who)] = self.actual.get((month, who), Decimal(0)) + amount
            # Won in `month` by a deal created in `created`: new business for every snapshot
            # t with created >= t, k = month - t.
            for t in range(month - MAX_K, min(created, month) + 1):
                key = (t, who, month - t)
                self.new_won[key] = self.new_won.get(key, Decimal(0)) + amount
        self.first_month = month if self.first_month is None else min(self.first_month, month)

    def teams(self) -> list[Team]:
        teams: set[int] = {key[1] for key in self.cells if key[1] is not None}
        return [*sorted(teams), None]


@dataclass(frozen=True)
class MonthForecast:
    month: int
    from_pipeline: Decimal
    new_business: Decimal
    baseline: Decimal
    actual: Decimal | None = None

    @property
    def expected(self) -> Decimal:
        return self.from_pipeline + self.new_business


@dataclass(frozen=True)
class Accuracy:
    mape: Decimal | None
    baseline_mape: Decimal | None
    months: int


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values) if values else Decimal(0)


def _cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Forecaster:
    """The method on a `History` (pure arithmetic, no queries)."""

    def __init__(self, history: History) -> None:
        self.h = history
        self.stages = sorted({key[2] for key in history.cells})
        self._rates: dict[tuple[int, int, int, int], Decimal] = {}

    def has_history(self, as_of: int) -> bool:
        first = self.h.first_month
        return first is not None and as_of - first >= MIN_HISTORY

    def win_rate(self, as_of: int, stage: int, age: int, k: int) -> Decimal:
        """p_k(stage, age) as known on the first of month `as_of` (company-wide)."""
        key = (as_of, stage, age, k)
        if key not in self._rates:
            self._rates[key] = self._win_rate(as_of, stage, age, k)
        return self._rates[key]

    def _win_rate(self, as_of: int, stage: int, age: int, k: int) -> Decimal:
        snapshots = range(as_of - LOOKBACK, as_of - k)  # t + k <= as_of - 1: month t+k has ended

        def counted(stages: Iterable[int], ages: Iterable[int]) -> tuple[int, int]:
            n = won = 0
            for t in snapshots:
                for s in stages:
                    for a in ages:
                        n += self.h.cells.get((t, None, s, a), 0)
                        won += self.h.wins.get((t, None, s, a, k), 0)
            return n, won

        all_ages = range(len(AGE_BUCKETS) + 1)
        for stages, ages in (([stage], [age]), ([stage], all_ages), (self.stages, all_ages)):
            n, won = counted(stages, ages)
            if n >= MIN_CELL:
                return Decimal(won) / Decimal(n)
        return Decimal(won) / Decimal(n) if n else Decimal(0)

    def month(self, as_of: int, k: int, team: Team) -> MonthForecast:
        """The forecast of month as_of + k, made on the first of month `as_of`."""
        pipeline = Decimal(0)
        for (t, who, stage, age), amount in self.h.open_amount.items():
            if t == as_of and who == team and amount:
                pipeline += amount * self.win_rate(as_of, stage, age, k)
        runs = [
            self.h.new_won.get((t, team, k), Decimal(0))
            for t in range(as_of - k - RUN_RATE_MONTHS, as_of - k)
            if self.h.first_month is not None and t >= self.h.first_month
        ]
        baseline = _mean(
            [
                self.h.actual.get((m, team), Decimal(0))
                for m in range(as_of - BASELINE_MONTHS, as_of)
            ]
        )
        actual = self.h.actual.get((as_of + k, team))
        return MonthForecast(
            month=as_of + k,
            from_pipeline=_cent(pipeline),
            new_business=_cent(_mean(runs)),
            baseline=_cent(baseline),
            actual=actual,
        )

    def forecast(self, as_of: int, team: Team) -> list[MonthForecast]:
        return [self.month(as_of, k, team) for k in range(HORIZON)]

    def backtest(self, as_of: int, team: Team) -> list[MonthForecast]:
        """Each of the BACKTEST_MONTHS months before `as_of`, forecast on its own first day,
        with its actual (0 when nothing was won)."""
        lines = []
        for m in range(as_of - BACKTEST_MONTHS, as_of):
            line = self.month(m, 0, team)
            lines.append(
                MonthForecast(
                    line.month,
                    line.from_pipeline,
                    line.new_business,
                    line.baseline,
                    line.actual or Decimal(0),
                )
            )
        return lines

    @staticmethod
    def accuracy(lines: list[MonthForecast]) -> Accuracy:
        """MAPE in percent over the months that won something (a zero month has no percentage
        error)."""
        scored = [line for line in lines if line.actual]
        if not scored:
            return Accuracy(None, None, 0)

        def mape(values: list[tuple[Decimal, Decimal]]) -> Decimal:
            errors = [abs(f - a) / a for f, a in values]
            return _cent(sum(errors, Decimal(0)) * 100 / len(errors))

        return Accuracy(
            mape([(line.expected, line.actual) for line in scored]),  # type: ignore[misc]
            mape([(line.baseline, line.actual) for line in scored]),  # type: ignore[misc]
            len(scored),
        )


# --- Reading the history ---------------------------------------------------------------------

_STAYS = """
WITH changes AS (
    -- Each stay is valued at the amount the deal had when it entered the stage (recorded on
    -- the change); changes recorded before amounts were kept fall back to today's.
    SELECT sc.opportunity_id AS opp, sc.id, sc.at, st.kind, sc.to_stage_id AS stage_id,
           o.team_id,
           CASE WHEN sc.amount IS NULL THEN o.currency ELSE sc.currency END AS currency,
           COALESCE(sc.amount, o.amount) AS amount
    FROM sales_stagechange sc
    JOIN sales_stage st ON st.id = sc.to_stage_id
    JOIN sales_opportunity o ON o.id = sc.opportunity_id AND o.archived_at IS NULL
    WHERE sc.at < %(until)s
), stays AS (
    SELECT opp, stage_id, kind, team_id, currency, amount,
           at AT TIME ZONE %(tz)s AS entered,
           LEAD(at) OVER (PARTITION BY opp ORDER BY at, id) AT TIME ZONE %(tz)s AS left_at,
           -- The first win at or after this change (changes read newest first).
           MIN(CASE WHEN kind = 'won' THEN at END) OVER (
               PARTITION BY opp ORDER BY at DESC, id DESC
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) AT TIME ZONE %(tz)s AS won_at
    FROM changes
)
"""

SNAPSHOTS_SQL = (
    _STAYS
    + """
SELECT EXTRACT(YEAR FROM m.t)::int * 12 + EXTRACT(MONTH FROM m.t)::int - 1 AS t,
       s.team_id, s.stage_id,
       CASE WHEN m.t - s.entered < make_interval(days => %(age1)s) THEN 0
            WHEN m.t - s.entered < make_interval(days => %(age2)s) THEN 1 ELSE 2 END AS age,
       (EXTRACT(YEAR FROM s.won_at)::int * 12 + EXTRACT(MONTH FROM s.won_at)::int - 1)
         - (EXTRACT(YEAR FROM m.t)::int * 12 + EXTRACT(MONTH FROM m.t)::int - 1) AS k,
       s.currency, COUNT(*), SUM(s.amount)
FROM stays s
CROSS JOIN LATERAL generate_series(
    date_trunc('month', s.entered),
    LEAST(COALESCE(s.left_at, %(last)s), %(last)s),
    interval '1 month'
) AS m(t)
WHERE s.kind = 'open' AND m.t >= s.entered AND (s.left_at IS NULL OR m.t < s.left_at)
GROUP BY 1, 2, 3, 4, 5, 6
"""
)

WINS_SQL = (
    _STAYS  # noqa: S608 (constant text; values are parameters)
    + """,
created AS (
    SELECT opp, MIN(entered) AS created FROM stays GROUP BY opp
)
SELECT EXTRACT(YEAR FROM s.entered)::int * 12 + EXTRACT(MONTH FROM s.entered)::int - 1,
       EXTRACT(YEAR FROM c.created)::int * 12 + EXTRACT(MONTH FROM c.created)::int - 1,
       s.team_id, s.currency, SUM(s.amount)
FROM stays s JOIN created c ON c.opp = s.opp
WHERE s.kind = 'won'
GROUP BY 1, 2, 3, 4
"""
)


def load_history(*, until: dt.date, book: RateBook) -> History:
    """The snapshots up to the first of the month of `until` and the wins before it, from the
    stage history, in two aggregate queries (their rows grow with months x stages, not deals).
    Amounts are converted at the rate of the first day of the month concerned: MissingRate
    when a rate is missing."""
    tz = timezone.get_default_timezone_name()
    last = dt.datetime.combine(until.replace(day=1), dt.time.min)
    until_at = timezone.make_aware(last, timezone.get_default_timezone())
    params: dict[str, Any] = {
        "tz": tz,
        "until": until_at,
        "last": last,
        "age1": AGE_BUCKETS[0],
        "age2": AGE_BUCKETS[1],
    }
    history = History()
    with connection.cursor() as cursor:
        cursor.execute(SNAPSHOTS_SQL, params)
        for t, team, stage, age, k, currency, count, amount in cursor.fetchall():
            value = book.convert(amount or Decimal(0), currency, month_start(t))
            history.add_snapshot(t, team, stage, age, k, count, value)
        cursor.execute(WINS_SQL, params)
        for month, created, team, currency, amount in cursor.fetchall():
            value = book.convert(amount or Decimal(0), currency, month_start(month))
            history.add_win(month, team, created, value)
    return history


# --- A run ---------------------------------------------------------------------------------------


def forecast_compute(*, as_of: dt.date | None = None) -> ForecastRun:
    """Compute and store a run as of the first of the month of `as_of` (default: today): the
    forecast of the next HORIZON months and the backtest of the BACKTEST_MONTHS before, for the
    company and each team. Atomic (a run appears whole or not at all). Any number of runs may
    exist; pages show the latest. Called by the Celery task (beat, or a manager's recompute)."""
    started = time.monotonic()
    day = (as_of or timezone.localdate()).replace(day=1)
    book = RateBook.load()
    parameters = {
        "lookback_months": LOOKBACK,
        "horizon_months": HORIZON,
        "min_cell": MIN_CELL,
        "run_rate_months": RUN_RATE_MONTHS,
        "baseline_months": BASELINE_MONTHS,
        "backtest_months": BACKTEST_MONTHS,
        "age_buckets_days": list(AGE_BUCKETS),
    }
    run = ForecastRun(as_of=day, currency=book.to_currency, parameters=parameters)
    try:
        history = load_history(until=day, book=book)
    except MissingRate as exc:
        run.status, run.message = ForecastRunStatus.FAILED, exc.message
        run.seconds = time.monotonic() - started
        run.save()
        return run
    method = Forecaster(history)
    t = month_index(day)
    if not method.has_history(t - BACKTEST_MONTHS):
        run.status = ForecastRunStatus.SHORT
        run.message = _(
            "The stage history is too short for a statistical forecast: it needs %(months)d "
            "months before the first month it is checked against."
        ) % {"months": MIN_HISTORY}
        run.seconds = time.monotonic() - started
        run.save()
        return run
    lines: list[ForecastLine] = []
    scores: list[ForecastAccuracy] = []
    for team in history.teams():
        for kind, months in (
            (ForecastLineKind.FORECAST, method.forecast(t, team)),
            (ForecastLineKind.BACKTEST, method.backtest(t, team)),
        ):
            lines.extend(
                ForecastLine(
                    team_id=team,
                    kind=kind,
                    month=month_start(m.month),
                    expected=m.expected,
                    from_pipeline=m.from_pipeline,
                    new_business=m.new_business,
                    baseline=m.baseline,
                    actual=m.actual if kind == ForecastLineKind.BACKTEST else None,
                )
                for m in months
            )
            if kind == ForecastLineKind.BACKTEST:
                score = Forecaster.accuracy(months)
                scores.append(
                    ForecastAccuracy(
                        team_id=team,
                        mape=score.mape,
                        baseline_mape=score.baseline_mape,
                        months=score.months,
                    )
                )
    run.status = ForecastRunStatus.DONE
    with transaction.atomic():
        run.seconds = time.monotonic() - started
        run.save()
        for line in lines:
            line.run = run
        for row in scores:
            row.run = run
        ForecastLine.objects.bulk_create(lines)
        ForecastAccuracy.objects.bulk_create(scores)
    return run


def month_label(day: dt.date) -> str:
    return day.strftime("%Y-%m")


def describe_short(run: ForecastRun | None) -> str:
    if run is None:
        return _("No statistical forecast has been computed yet.")
    return run.message
