"""Each CRM module's part of the benchmark: one file per module, found by `bench.run`.

A module plugs into the suite with a file here (files starting with "_" are skipped) that defines

    pages(rep) -> dict[str, Page]     # page name -> URL, measured like every other page, or a
                                      #   public form's POST (`bench.run.PostPage`)
    SERVER_ENV = {"NAME": "value"}    # optional: settings the benchmark's processes run with
                                      #   (a public form's rate limit raised: one address posts)
    VACUUM = ("app_table", ...)       # optional: tables vacuumed (ANALYZE) before the run
    NEVER_SEQ_SCAN = ("app_table",)   # optional: tables no plan may read sequentially (a target)
    seed(size) -> dict | None         # optional: make `size` records unless they are there;
                                      #   facts for the results when it seeded (timed: a target)
    prepare(rep) -> dict[str, Any]    # optional: fixtures the pages need; facts for the results
    plans(rep) -> dict[str, str]      # optional: name -> EXPLAIN ANALYZE of the pages' queries
    bulk(server, options) -> dict     # optional: name -> facts of bulk work with a "kind":
                                      #   "import" (rows_per_second, peak_rss_mb, status) or
                                      #   "export" (growth_mb, rows), checked against the targets

`rep` is the signed-in sales rep of the largest team (`bench.run.REP`, a demo user the seeding
makes). Every page gets the same three loads (1 in flight, 10 users pausing 1-3 s, 10 in flight:
its capacity in pages per second per core), a query count and the 150 ms target. A `PostPage`
(the form's page, the `<form id>` whose hidden fields carry its CSRF and time tokens, the
visible fields of one submission from a unique key, how to count the rows it makes, the form's
minimum time, and optionally the submissions per second it must sustain) is posted by anonymous
visitors with fresh tokens each; the run checks that the rows made equal the accepted posts
after the loads and after a worker ran what they queued. `bench.run`
offers the pieces a module's bulk work needs: `Server` (the running gunicorn), `Worker` (a
Celery worker on the bench's queue), `bench_export(server, path, rows)`, `wait_for(job, states)`.
"""
