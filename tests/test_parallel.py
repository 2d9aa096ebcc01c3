"""Searches on two cores (gcgeo.parallel): the same numbers as one process, and every way a
worker can fail ends in the right result or the parent's own error.

Forking is checked in a fresh interpreter: pytest's own process may hold threads (from the
server and Dask tests), and then gcgeo rightly stays serial.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from gcgeo import parallel, settings
from gcgeo.demo import write_demo_osm

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")

_HEAD = """
import json, os, signal, sys, time
import numpy as np
from gcgeo import parallel, settings
parent = os.getpid()
def job(i):
    time.sleep(0.05)  # long enough for the child to start and take its share
    return np.full(5, i * 1.5), np.full(3, os.getpid())
def check(out, n):
    for i, (a, p) in enumerate(out):
        assert np.array_equal(a, np.full(5, i * 1.5)), (i, a)
    return sorted({int(p[0]) for _, p in out})
forks = []  # every fork made from here on
_real_fork = os.fork
def _counted_fork():
    forks.append(1)
    return _real_fork()
"""


def _run(body: str) -> dict:
    """Run ``body`` in a fresh interpreter; it prints one JSON line."""
    code = _HEAD + textwrap.dedent(body)
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_jobs_are_shared_with_a_child_and_come_back_in_order() -> None:
    r = _run(
        """
        used = {}
        out = parallel.fork_map(job, list(range(7)), [(np.float64, 5), (np.int64, 3)], report=used)
        pids = check(out, 7)
        print(json.dumps({"k": parallel.processes(7), "pids": pids, "parent": parent, "used": used}))
        """
    )
    assert r["k"] == 2 and r["used"] == {"processes": 2}
    assert r["parent"] in r["pids"] and len(r["pids"]) == 2  # both processes did some jobs


def test_more_jobs_than_one_queue_holds() -> None:
    r = _run(
        """
        quick = lambda i: (np.full(5, i * 1.5), np.full(3, os.getpid()))
        out = parallel.fork_map(quick, list(range(2500)), [(np.float64, 5), (np.int64, 3)])
        print(json.dumps({"n": len(out), "pids": len(check(out, 2500))}))
        """
    )
    assert r["n"] == 2500 and r["pids"] >= 1


@pytest.mark.parametrize(
    "failure",
    [
        "raise RuntimeError('child only')",
        "os.kill(os.getpid(), signal.SIGKILL)",
        "return np.zeros(4), np.zeros(3, dtype=np.int64)",  # wrong shape
        "return (np.zeros(5),)",  # too few arrays
    ],
)
def test_a_failing_child_costs_only_time(failure: str) -> None:
    r = _run(
        f"""
        def flaky(i):
            if os.getpid() != parent:
                {failure}
            return job(i)
        out = parallel.fork_map(flaky, list(range(6)), [(np.float64, 5), (np.int64, 3)])
        print(json.dumps({{"pids": check(out, 6), "parent": parent}}))
        """
    )
    assert r["pids"] == [r["parent"]]  # the child's jobs were all redone here


@pytest.mark.parametrize("refused", ["os.fork", "parallel.mmap.mmap", "os.pipe"])
def test_a_system_that_refuses_a_fork_a_map_or_a_pipe_means_one_process(refused: str) -> None:
    r = _run(
        f"""
        def no(*a, **k):
            raise OSError(11, "Resource temporarily unavailable")
        {refused} = no
        used = {{}}
        out = parallel.fork_map(job, list(range(4)), [(np.float64, 5), (np.int64, 3)], report=used)
        print(json.dumps({{"pids": check(out, 4), "parent": parent, "used": used}}))
        """
    )
    assert r["pids"] == [r["parent"]] and r["used"] == {"processes": 1}  # said truly


def test_an_error_here_kills_the_child_and_is_raised() -> None:
    r = _run(
        """
        def bad(i):
            if os.getpid() != parent:
                time.sleep(600)  # would hang the test if the child were waited for
            raise ValueError("parent's own error")
        try:
            parallel.fork_map(bad, list(range(4)), [(np.float64, 5), (np.int64, 3)])
            raised = ""
        except ValueError as exc:
            raised = str(exc)
        try:
            os.waitpid(-1, os.WNOHANG)
            left = True
        except ChildProcessError:
            left = False  # no child left behind, not even a zombie
        print(json.dumps({"raised": raised, "left": left}))
        """
    )
    assert r == {"raised": "parent's own error", "left": False}


def test_node_distances_many_equals_one_search_at_a_time() -> None:
    """Bit for bit, on a random grid with several categories, with a fork really made."""
    r = _run(
        """
        from gcgeo.engine import node_distances, node_distances_many
        from gcgeo.network import from_arrays
        from gcgeo.snap import snap_points
        rng = np.random.default_rng(5)
        side = 60
        g = np.arange(side * side).reshape(side, side)
        x = (np.arange(side * side) % side) * 90.0 + rng.uniform(-10, 10, side * side)
        y = (np.arange(side * side) // side) * 90.0 + rng.uniform(-10, 10, side * side)
        u = np.concatenate([g[:, :-1].ravel(), g[:-1, :].ravel()])
        v = np.concatenate([g[:, 1:].ravel(), g[1:, :].ravel()])
        keep = rng.random(len(u)) > 0.1
        net = from_arrays(x + 500000, y + 4000000, u[keep], v[keep])
        jobs = []
        for k, lim in ((3, 800.0), (20, 1500.0), (1, np.inf), (8, 300.0), (0, 1000.0)):
            xy = np.column_stack([rng.uniform(0, 5300, k) + 500000, rng.uniform(0, 5300, k) + 4000000])
            jobs.append((snap_points(net, xy, 300), lim))
        os.fork = _counted_fork
        settings.SEARCH_FORK_MIN_NODES = 0
        many = node_distances_many(net, jobs)
        os.fork = _real_fork
        one = [node_distances(net, s, limit=lim) for s, lim in jobs]
        same = all(
            np.array_equal(a.dist, b.dist) and np.array_equal(a.source, b.source) and a.limit == b.limit
            for a, b in zip(many, one)
        )
        print(json.dumps({"forks": len(forks), "same": same,
                          "finite": [int(np.isfinite(a.dist).sum()) for a in one]}))
        """
    )
    assert r["forks"] == 1 and r["same"]
    assert r["finite"][4] == 0 and r["finite"][2] > 0  # no facilities: nothing reached


def test_coverage_on_two_cores_writes_the_same_files(tmp_path: Path) -> None:
    """The whole `gcgeo coverage` on the demo district, forked searches vs one process:
    the same bytes in every table."""
    osm = tmp_path / "demo.osm"
    write_demo_osm(osm)
    outs = {}
    for procs in (1, 2):
        out = tmp_path / f"p{procs}"
        r = _run(
            f"""
            settings.SEARCH_PROCESSES = {procs}
            settings.SEARCH_FORK_MIN_NODES = 0
            os.fork = _counted_fork
            from gcgeo.cli import main
            try:
                main(["coverage", "--osm", {str(osm)!r}, "--out", {str(out)!r}, "--no-cache"])
            except SystemExit as exc:
                assert not exc.code, exc.code
            print(json.dumps({{"forks": len(forks)}}))
            """
        )
        assert r["forks"] == (procs - 1)
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
        assert run["meta"]["search_processes"] == procs  # said in run.json too
        outs[procs] = out
    for name in ("coverage.csv", "coverage_by_area.csv"):
        a = (outs[1] / name).read_bytes()
        assert a and a == (outs[2] / name).read_bytes(), name


def test_serial_beside_a_thread_or_when_set_to_one(monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert parallel.processes(8) == 1  # another thread: forking could deadlock the child
    finally:
        stop.set()
        t.join()
    monkeypatch.setattr(settings, "SEARCH_PROCESSES", 1)
    assert parallel.processes(8) == 1
    out = parallel.fork_map(lambda i: (np.arange(3) * i,), [1, 2], [(np.int64, 3)])
    assert [a.tolist() for (a,) in out] == [[0, 1, 2], [0, 2, 4]]
