"""The app a served benchmark runs in each worker of a real server, chosen by environment
variables: `BENCH_CONTENDER` is `library/framework` (an app adapter of
`benchmarks.frameworks`, or `none/framework` for the unlimited baseline), `BENCH_STORAGE` the
Redis URL the limiter keeps its counts in, under keys starting with `BENCH_NAMESPACE`. `app`
is an ASGI or WSGI app, as the framework is; `benchmarks.workloads.servers` serves it with
uvicorn or gunicorn."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from benchmarks.frameworks import APP_ADAPTERS, BASELINES

LIMIT = 10**9
PERIOD = 3600


def served_app(environ: Mapping[str, str]) -> Any:
    library, _, framework = environ["BENCH_CONTENDER"].partition("/")
    if library == "none":
        return BASELINES[framework]()
    adapter = next(a for a in APP_ADAPTERS if (a.library, a.framework) == (library, framework))
    return adapter.app(LIMIT, PERIOD, environ["BENCH_STORAGE"], environ["BENCH_NAMESPACE"])


app = served_app(os.environ) if "BENCH_CONTENDER" in os.environ else None
