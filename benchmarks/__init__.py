"""aiostore's benchmark harness: aiostore and its peers, same workloads, same local servers.

Run everything (installs the peers into ``.venv-bench`` first)::

    benchmarks/run            # full run, about half an hour on 2 cores
    benchmarks/run --quick    # smoke run, a few minutes

or, in an environment that already has the packages, ``python -m benchmarks``.
Results land in ``docs/benchmarks/`` (``results.md``, ``chart.png``); how to read
them is in ``docs/benchmarks/README.md``.
"""
