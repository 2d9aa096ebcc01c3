"""Many districts at once: one task per district, in this process or on Dask.

:func:`run_tasks` runs ``fn(item)`` for every item and returns their results in item
order. With ``workers <= 1`` and no scheduler it is a plain loop (a plain install keeps
working); otherwise it starts a ``dask.distributed.LocalCluster`` of single-threaded worker
processes with a memory limit, or connects to ``scheduler`` (``tcp://host:port``). Tasks
are retried on another worker when theirs dies (``retries``); a task that *fails* returns
its error in its result (``fn`` catches it), so one bad district never stops the others.

Dask is the optional ``batch`` extra (``pip install -e ".[batch]"``), imported only here
and only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._errors import DependencyError

__all__ = ["MEMORY_LIMIT", "run_tasks"]

#: Memory limit of each local worker process.
MEMORY_LIMIT = "2GiB"


def run_tasks(
    fn: Callable[[Any], dict[str, Any]],
    items: Sequence[Any],
    workers: int = 1,
    scheduler: str | None = None,
    retries: int = 2,
    progress: Callable[[dict[str, Any]], None] | None = None,
    on_client: Callable[[Any], None] | None = None,
) -> list[dict[str, Any]]:
    """``[fn(item) for item in items]``, serially or on Dask (see the module docstring).

    ``progress`` is called with each result as it arrives; ``on_client`` with the Dask
    client once it is connected (e.g. to print the dashboard link).
    """
    if scheduler is None and workers <= 1:
        out = []
        for item in items:
            res = fn(item)
            if progress:
                progress(res)
            out.append(res)
        return out
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise DependencyError(
            'More than one worker needs Dask; install it with `pip install "gcgeo[batch]"` '
            "or use --workers 1."
        ) from exc
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=MEMORY_LIMIT,
            dashboard_address=":0",
        )
        client = Client(cluster)
    else:
        client = Client(scheduler, timeout="20s")
    try:
        if on_client:
            on_client(client)
        futures = client.map(fn, list(items), retries=retries, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[dict[str, Any] | None] = [None] * len(futures)
        for fut in as_completed(futures):
            res = fut.result()
            out[index[fut.key]] = res
            if progress:
                progress(res)
        return [r for r in out if r is not None]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
