"""Each CRM module's part of the benchmark: one file per module, found by `bench.run`.

A module plugs its pages into the suite with a file here that defines

    pages(rep) -> dict[str, str]      # page name -> URL, measured like every other page
    prepare(rep) -> dict[str, Any]    # optional: fixtures the pages need; facts for the results
    plans(rep) -> dict[str, str]      # optional: name -> EXPLAIN ANALYZE of the pages' queries

`rep` is the signed-in sales rep of the largest team (`bench.run.REP`). Every page gets the same
loads, query counts and targets; plans are searched for sequential scans of contacts.
"""
