"""Celery tasks of sales: thin, they call `sales.forecasting`.

`forecast_refresh` is the beat task (daily, declared in `SalesConfig.ready`); a manager's
"Recompute" runs `forecast_recompute` as a job (crm.jobs) the page shows the progress of. A
second run only adds a newer run: pages read the latest, so late or doubled runs are harmless.
"""

from __future__ import annotations

from celery import shared_task

from crm import jobs
from sales import forecasting

REFRESH_TASK = "sales.tasks.forecast_refresh"


@shared_task(base=jobs.JobTask, **jobs.RETRY)
def forecast_recompute(*, job_id: int) -> int:
    """Compute a statistical forecast run now (a job a manager asked for); returns its id."""
    run = forecasting.forecast_compute()
    jobs.progress(done=1, total=1)
    return run.pk


@shared_task(name=REFRESH_TASK, **jobs.RETRY)
def forecast_refresh() -> int:
    """The daily run of the statistical forecast (beat); returns the run's id."""
    return forecasting.forecast_compute().pk
