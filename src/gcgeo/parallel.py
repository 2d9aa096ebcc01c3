"""Independent searches on several cores: forked worker processes, not threads.

scipy's Dijkstra holds the GIL for most of its work (measured here: 8 searches on two
threads ran 0.86-1.12x as fast as on one), so :func:`fork_map` splits a list of
independent jobs (one search per category) between this process and forked children
(``settings.SEARCH_PROCESSES`` in all). A child inherits the street network by
copy-on-write, so nothing is serialised on the way in; it writes its results as raw
numbers into a shared anonymous memory map, so nothing is unpickled on the way back.

It is only a speed choice: results are the same numbers, bit for bit, as one process
would give. Forking is used only where it is safe and pays: on Linux, with at least two
usable cores, two or more jobs, and while this process runs no other Python thread (a
``gcgeo serve`` server or a Dask worker keep their threads, so they stay serial). A child
that fails for any reason (an error, a kill, running out of memory) costs nothing but
time: its jobs are run again here, and an error then is raised as usual. A fork, pipe or
shared map the system refuses means fewer workers, down to this process alone.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from . import settings

__all__ = ["fork_map", "note_processes", "processes"]

T = TypeVar("T")

#: (dtype, length) of each array one job returns; the same for every job.
Layout = Sequence[tuple[np.dtype | type, int]]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
#: Jobs per queue: 4 bytes each within PIPE_BUF (4096 bytes, the least any Linux pipe holds).
_MAX_QUEUE = 1024


def processes(n_jobs: int) -> int:
    """How many processes :func:`fork_map` would use for ``n_jobs`` jobs now (1 = serial)."""
    want = int(settings.SEARCH_PROCESSES)
    if want < 2 or n_jobs < 2 or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return 1
    if threading.active_count() != 1:  # forking beside threads can deadlock the child
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(want, cores, n_jobs))


def _queue(order: list[int]) -> int:
    """A pipe holding the job numbers in ``order`` (4 bytes each); returns its read end.

    Every process takes its next job with one 4-byte read, which Linux serves whole and
    to one reader only, so the processes share the jobs as they free up; the write end is
    closed, so an empty pipe reads as the end.
    """
    r, w = os.pipe()
    data = np.asarray(order, dtype="<i4").tobytes()
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(w, view) :]
    finally:
        os.close(w)
    return r


def _take(r: int) -> int | None:
    """The next job number from the queue, or None when it is empty."""
    b = os.read(r, 4)
    return int.from_bytes(b, "little", signed=True) if len(b) == 4 else None


def note_processes(report: dict[str, int] | None, k: int) -> None:
    """Record in ``report`` that ``k`` processes ran jobs (the largest count is kept)."""
    if report is not None:
        report["processes"] = max(report.get("processes", 0), k)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this child when its parent ends (best effort)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent ended before prctl took effect
        os._exit(1)


def fork_map(
    fn: Callable[[T], Sequence[np.ndarray]],
    items: Sequence[T],
    layout: Layout,
    weights: Sequence[float] | None = None,
    report: dict[str, int] | None = None,
) -> list[tuple[np.ndarray, ...]]:
    """``[tuple(fn(item)) for item in items]``, shared with forked processes where it pays.

    Parameters
    ----------
    fn : callable
        One job: returns arrays matching ``layout`` (a child's job that does not is run
        again here, where the mismatch then raises).
    items : sequence
        The jobs' inputs.
    layout : sequence of (dtype, length)
        What each job returns, e.g. ``[(np.float64, n), (np.int64, n)]``.
    weights : sequence of float, optional
        Rough cost of each job, to balance the processes (default: equal).
    report : dict, optional
        Receives ``processes``: how many processes ran jobs (this one and the workers
        that could be forked), the largest over calls that share the dict.

    Returns
    -------
    list of tuple of ndarray
        In the order of ``items``. A child's arrays are views of the memory it wrote
        into, which is this process's alone once the child has ended, and is freed with
        the last of them.
    """
    n = len(items)
    k = processes(n)
    note_processes(report, 1)
    if k == 1:
        return [tuple(fn(it)) for it in items]
    if n > _MAX_QUEUE:  # the queue is written before anyone reads it: one pipe buffer
        w = [None] * n if weights is None else list(weights)
        return [
            r
            for a in range(0, n, _MAX_QUEUE)
            for r in fork_map(
                fn,
                items[a : a + _MAX_QUEUE],
                layout,
                None if weights is None else w[a : a + _MAX_QUEUE],
                report,
            )
        ]
    specs = [(np.dtype(dt), int(length)) for dt, length in layout]
    offsets = np.cumsum([0] + [-(-dt.itemsize * length // 8) * 8 for dt, length in specs])
    per_job = int(offsets[-1]) + 8  # the arrays, then one "done" flag
    try:
        shared = mmap.mmap(-1, max(per_job * n, 1))  # anonymous and shared with children
    except OSError:  # no memory for it: one process, as without forking
        return [tuple(fn(it)) for it in items]

    def views(i: int) -> list[np.ndarray]:
        base = i * per_job
        return [
            np.ndarray((length,), dtype=dt, buffer=shared, offset=base + int(off))
            for (dt, length), off in zip(specs, offsets[:-1], strict=True)
        ]

    def done(i: int) -> np.ndarray:
        return np.ndarray((1,), dtype=np.int64, buffer=shared, offset=i * per_job + per_job - 8)

    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    try:
        queue = _queue(np.argsort(-w, kind="stable").tolist())  # heaviest first
    except OSError:  # out of file descriptors
        return [tuple(fn(it)) for it in items]
    parent = os.getpid()
    children: list[int] = []
    results: list[tuple[np.ndarray, ...] | None] = [None] * n
    failed = False
    try:
        for _ in range(k - 1):
            try:
                pid = os.fork()
            except OSError:  # no process to be had (limits, memory): fewer workers
                break
            if pid == 0:  # a child: compute, write, leave without running any cleanup
                code = 1
                try:
                    for sig in (signal.SIGINT, signal.SIGTERM):
                        signal.signal(sig, signal.SIG_DFL)
                    _die_with_parent(parent)
                    while (i := _take(queue)) is not None:
                        out = fn(items[i])
                        target = views(i)
                        if len(out) != len(target):
                            break  # the parent redoes this job, and sees the mismatch
                        for src, dst in zip(out, target, strict=True):
                            dst[...] = src  # raises on a shape mismatch: the parent redoes it
                        done(i)[0] = 1
                    else:
                        code = 0
                finally:
                    os._exit(code)
            children.append(pid)
        note_processes(report, 1 + len(children))
        while (i := _take(queue)) is not None:
            results[i] = tuple(fn(items[i]))
    except BaseException:
        failed = True
        raise
    finally:
        os.close(queue)
        for pid in children:
            if failed:  # an error here: do not wait for work that will be thrown away
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    for i in range(n):
        if results[i] is not None:
            continue
        if done(i)[0] == 1:  # a child's arrays, used where they lie (no copy)
            results[i] = tuple(views(i))
        else:  # a child took this job and did not finish it: do it here
            results[i] = tuple(fn(items[i]))
    return [r for r in results if r is not None]
