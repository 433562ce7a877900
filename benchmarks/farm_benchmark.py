"""Farm benchmark: many launchers at once against one server and one shared add-on store.

Usage: ``python benchmarks/farm_benchmark.py [--launchers 64] [--addons 4] [--size-mb 20]
[--timeout 600] [--json]``; also a row of ``benchmarks/run.py`` and run by
``tests/test_farm.py`` with fewer launchers. Starts the embedded server on a loopback port
(with a count of the requests it answers), uploads a bundle, then:

1. one launcher alone, cold (its own empty shared store): the time of a single start
   (median of ``SINGLE_RUNS``);
2. ``--launchers`` launchers started at once (separate processes, each with its own local
   folder as on its own node, all with the same ``AYON_LAUNCHER_STORAGE_DIR``), cold.

Checks that every launcher ran its script (exit 0) and that the server sent each archive
exactly once in step 2; prints the total time against the single launcher's and the number
of server requests (``--json``: one JSON line). Exit 1 when a check fails. Bounded: at most
``MAX_LAUNCHERS`` processes, all killed after ``--timeout`` seconds. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BenchFailure, ayon_command, launcher_env  # noqa: E402
from sync_benchmark import BUNDLE, VERSION, upload_bench_bundle  # noqa: E402

MAX_LAUNCHERS = 128
SINGLE_RUNS = 3
SCRIPT = """import pathlib, sys
pathlib.Path(sys.argv[1]).write_text("started")
"""


class RequestCounter:
    """ASGI wrapper counting the requests the server answers, by path."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()
        self.guard = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            with self.guard:
                self.counts[scope["path"]] += 1
        await self.app(scope, receive, send)

    def reset(self) -> None:
        with self.guard:
            self.counts.clear()

    def downloads(self) -> dict[str, int]:
        """Requests of add-on client archives and dependency packages."""
        with self.guard:
            return {path: n for path, n in self.counts.items()
                    if "/private/" in path or path.startswith("/api/desktop/dependencyPackages/")
                    and path.count("/") >= 4}

    def total(self) -> int:
        with self.guard:
            return sum(self.counts.values())


@contextmanager
def counting_server(data_dir: Path) -> Iterator[tuple[Any, RequestCounter]]:
    """The embedded server (users only, no demo data) behind a RequestCounter."""
    from ayon_launcher.localserver.app import create_app
    from ayon_launcher.localserver.seed import ADMIN_PASSWORD, ADMIN_USER, ensure_users
    from ayon_launcher.localserver.server import LocalServer
    from ayon_launcher.localserver.testing import TestServer

    local = LocalServer(data_dir)
    credentials = ensure_users(local.store)
    counter = RequestCounter(create_app(local.store))
    local._app = counter  # noqa: SLF001 - start() serves the app it holds (the count wraps it)
    local.start()
    try:
        yield TestServer(local, ADMIN_USER, ADMIN_PASSWORD,
                         credentials["service_api_key"]), counter
    finally:
        local.close()


@dataclass
class FarmResult:
    launchers: int
    archives: int
    single_seconds: float
    farm_seconds: float
    single_cpu: float  # user + system seconds of the launcher processes
    farm_cpu: float
    server_cpu: float  # of the embedded server (this process) during the farm's start
    requests: int
    single_requests: int
    downloads: dict[str, int]
    failed: list[str]

    @property
    def ok(self) -> bool:
        return (not self.failed and len(self.downloads) == self.archives
                and all(n == 1 for n in self.downloads.values()))


def _launch(server: Any, work: Path, storage: Path, index: int) -> tuple[subprocess.Popen, Path]:
    local = work / "nodes" / (f"node{index:03d}" if index >= 0 else f"single{-index}")
    env = launcher_env(server, work, local)
    env["AYON_LAUNCHER_STORAGE_DIR"] = str(storage)
    started = work / "started" / f"{index:03d}"  # the script writes it
    cmd = [*ayon_command(), "--headless", "--bundle", BUNDLE, str(work / "script.py"),
           str(started)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    return proc, started


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run_wave(server: Any, work: Path, storage: Path, count: int, first: int,
              timeout: float) -> tuple[float, float, list[str]]:
    """Start ``count`` launchers at once; (wall seconds until all ended, their CPU seconds,
    failures)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    procs = [_launch(server, work, storage, first + n) for n in range(count)]
    deadline = time.monotonic() + timeout
    failed = []
    for index, (proc, started) in enumerate(procs):
        try:
            _out, err = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other, _ in procs:
                other.kill()
            raise BenchFailure(f"launchers still running after {timeout:.0f}s: killed") from None
        if proc.returncode != 0 or not started.is_file():
            tail = (err or "").strip().splitlines()[-1:] or ["no output"]
            failed.append(f"launcher {index}: exit {proc.returncode}: {tail[0]}")
    return time.perf_counter() - start, _children_cpu() - cpu, failed


def run_farm(launchers: int, addons: int, size_mb: int, timeout: float,
             work: Path) -> FarmResult:
    if not 1 <= launchers <= MAX_LAUNCHERS:
        raise BenchFailure(f"--launchers must be 1 to {MAX_LAUNCHERS}")
    (work / "started").mkdir(parents=True)
    (work / "script.py").write_text(SCRIPT)
    with counting_server(work / "server") as (server, counter):
        names = upload_bench_bundle(server, work, size_mb, addons)
        singles = []
        for run in range(SINGLE_RUNS):  # one launcher alone, cold: median of a few
            counter.reset()
            singles.append(_run_wave(server, work, work / f"storage-single{run}", 1, -1 - run,
                                     timeout))
            if singles[-1][2]:
                raise BenchFailure(f"a single launcher failed: {singles[-1][2][0]}")
        single_requests = counter.total()
        single = statistics.median(wall for wall, _cpu, _failed in singles)
        single_cpu = statistics.median(cpu for _wall, cpu, _failed in singles)
        counter.reset()
        server_cpu = _own_cpu()
        farm, farm_cpu, failed = _run_wave(server, work, work / "storage", launchers, 0, timeout)
        server_cpu = _own_cpu() - server_cpu
        downloads = counter.downloads()
        requests = counter.total()
    for name in names:
        if not (work / "storage" / "addons" / f"{name}_{VERSION}").is_dir():
            failed.append(f"add-on {name} is not in the shared store")
    stray = sorted(p.name for p in (work / "nodes").glob("*/addons"))
    if stray:
        failed.append(f"{len(stray)} node(s) installed add-ons in their local folder")
    return FarmResult(launchers, len(names), single, farm, single_cpu, farm_cpu, server_cpu,
                      requests, single_requests, downloads, failed)


def measure(launchers: int = 64, addons: int = 4, size_mb: int = 20,
            timeout: float = 600.0) -> FarmResult:
    with tempfile.TemporaryDirectory(prefix="ayon-farm-bench-") as tmp:
        return run_farm(launchers, addons, size_mb, timeout, Path(tmp))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launchers", type=int, default=64)
    parser.add_argument("--addons", type=int, default=4)
    parser.add_argument("--size-mb", type=int, default=20, help="size of all the archives")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--json", action="store_true", help="one JSON line of the result")
    args = parser.parse_args()
    try:
        result = measure(args.launchers, args.addons, args.size_mb, args.timeout)
    except BenchFailure as exc:
        print(f"farm benchmark failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**asdict(result), "ok": result.ok}))
    else:
        print(f"{result.launchers} launchers at once, one shared store, {result.archives} "
              f"add-ons ({args.size_mb} MB), cold")
        floor = result.launchers * result.single_cpu / (os.cpu_count() or 1)
        print(f"  single launcher:   {result.single_seconds:7.2f} s (median of {SINGLE_RUNS}), cpu "
              f"{result.single_cpu:.2f} s, {result.single_requests} server requests")
        print(f"  {result.launchers} launchers:     {result.farm_seconds:7.2f} s "
              f"({result.farm_seconds / result.single_seconds:.1f}x the single launcher's), "
              f"cpu {result.farm_cpu:.1f} s ({result.farm_cpu / result.launchers:.2f} s per "
              f"launcher, {os.cpu_count()} cores), {result.requests} server requests "
              f"({result.requests / result.launchers:.1f} per launcher, server cpu "
              f"{result.server_cpu:.1f} s)")
        print(f"  cpu floor:         {floor:7.2f} s ({result.launchers} x the single launcher's "
              f"cpu / {os.cpu_count()} cores)")
        print(f"  archive downloads: {sum(result.downloads.values())} for {result.archives} "
              f"archives ({', '.join(f'{n}x' for n in result.downloads.values())})")
        for failure in result.failed:
            print(f"  FAILED: {failure}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
