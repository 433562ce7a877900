"""AYON launcher benchmarks: every figure is a ratio against a baseline measured in the same run.

Usage: ``python benchmarks/run.py [--quick] [--runs N] [--skip-sync] [--skip-official]
[--skip-farm]``. Prints a table; each time is the median of several runs, ours and the
baseline's alternately. Not part of the tests.

* start-up: ``ayon --skip-bootstrap script.py`` vs ``python script.py``;
* no-op bootstrap: ``ayon --headless script.py`` with everything up to date, against the local
  server, vs ``python script.py`` (the absolute time is reported too; a warm start, see
  src/ayon_launcher/bootstrapper/warmstart.py);
* cold sync of ~200 MB of add-ons vs ``curl`` + ``unzip`` of the same archives;
* ``ayon extractenvironments`` for a full context vs the no-op bootstrap;
* peak RSS of a headless run vs ``python script.py``;
* start-up check of installed items (10 add-ons, 20,000 files) vs ``os.stat`` of every file;
* side by side with ynput's official launcher from source (``official_benchmark.py``), on a
  private real AYON server with the studio bundle (ayon-core + applications): cold sync, warm
  start of a script, peak RSS; skipped, saying why, without ``../shared/peers``;
* farm: 64 launchers started at once on one shared store (``AYON_LAUNCHER_STORAGE_DIR``) vs
  one launcher alone, with the count of archive downloads (each must be 1) and of requests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common import (
    BenchFailure,
    Timing,
    ayon_command,
    clean_env,
    compile_bytecode,
    launcher_env,
    median_each,
    median_pair,
    peak_rss_mib,
    run_checked,
)

PROJECT, FOLDER, TASK, APP = "demo_Commercial", "robot", "modeling", "maya/2024"


@dataclass
class Row:
    figure: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def _ratios(timing: Timing) -> str:
    return f"{timing.ratio:.2f}x (cpu {timing.cpu_ratio:.2f}x)"


def _failed(figure: str, exc: Exception) -> Row:
    return Row(figure, "failed", ratio=str(exc)[:160])


def paired_row(figure: str, timing: Timing, baseline: str, goal: float | None = None) -> Row:
    """A row of ``timing`` against its baseline (named ``baseline``), with the ratio goal."""
    row = Row(figure, _ms(timing.wall), f"{baseline} {_ms(timing.base_wall)}", _ratios(timing))
    if goal is not None:
        row.target, row.met = f"<= {goal:g}x", _verdict(timing.ratio <= goal)
    return row


def startup_row(script: Path, runs: int) -> Row:
    figure = "start-up: ayon --skip-bootstrap script.py"
    env = clean_env()
    ours = [*ayon_command(), "--skip-bootstrap", str(script)]
    python = [sys.executable, str(script)]
    try:
        run_checked(ours, env)  # warm the bytecode caches
        timing = median_pair(lambda: run_checked(ours, env), lambda: run_checked(python, env),
                             runs)
    except BenchFailure as exc:
        return _failed(figure, exc)
    return paired_row(figure, timing, "python script.py", goal=1.2)


def noop_rows(work: Path, env: dict[str, str], runs: int) -> list[Row]:
    """The no-op bootstrap against ``python script.py`` and against its floor
    (FLOOR_SCRIPT), the three measured in one alternation: what is left above the floor is
    the launcher's own code and imports, and the second request of a bundle without core."""
    figures = ("no-op bootstrap: ayon --headless script.py", "no-op bootstrap vs its floor")
    script = work / "script.py"
    floor = work / "floor.py"
    floor.write_text(FLOOR_SCRIPT)
    commands = ([*ayon_command(), "--headless", str(script)],
                [sys.executable, str(script)], [sys.executable, str(floor)])
    try:
        run_checked(commands[0], env)  # the first run syncs the demo bundle
        (wall, cpu), (py_wall, py_cpu), (floor_wall, floor_cpu) = median_each(
            [lambda c=c: run_checked(c, env) for c in commands], runs)
    except BenchFailure as exc:
        return [_failed(figure, exc) for figure in figures]
    return [paired_row(figures[0], Timing(wall, py_wall, cpu, py_cpu), "python script.py",
                       goal=3),
            paired_row(figures[1], Timing(wall, floor_wall, cpu, floor_cpu),
                       "python: state + 1 request")]


# The least any warm start can do in Python, as the issue puts it: start, read the state
# file, ask the server once (GET /api/bundles over a plain socket), parse the answer.
FLOOR_SCRIPT = """\
import json, os, socket, sys
with open(os.path.join(os.environ["AYON_LAUNCHER_LOCAL_DIR"], "state", "warm_start.json"),
          encoding="utf-8") as handle:
    record = json.load(handle)
host, _, port = os.environ["AYON_SERVER_URL"].split("://", 1)[1].rstrip("/").partition(":")
with socket.create_connection((host, int(port or 80)), timeout=10) as sock:
    sock.sendall((f"GET /api/bundles HTTP/1.1\\r\\nHost: {host}\\r\\n"
                  f"X-Api-Key: {os.environ['AYON_API_KEY']}\\r\\nConnection: close\\r\\n\\r\\n"
                  ).encode())
    answer = b"".join(iter(lambda: sock.recv(65536), b""))
head, _, body = answer.partition(b"\\r\\n\\r\\n")
if b" 200 " not in head.split(b"\\r\\n", 1)[0] or b"chunked" in head.lower():
    sys.exit("floor script: unexpected answer " + head.decode(errors="replace")[:80])
bundles = json.loads(body)["bundles"]
sys.exit(0 if record.get("entries") and bundles else 1)
"""


def extract_row(script: Path, env: dict[str, str], work: Path, runs: int) -> Row:
    figure = "extractenvironments, full context"
    out = work / "env.json"
    ours = [*ayon_command(), "--headless", "extractenvironments", str(out), "--project",
            PROJECT, "--asset", FOLDER, "--task", TASK, "--app", APP]
    noop = [*ayon_command(), "--headless", str(script)]
    try:
        run_checked(ours, env)
        if json.loads(out.read_text()).get("AYON_APP_NAME") is None:
            raise BenchFailure("extractenvironments wrote no application environment")
        timing = median_pair(lambda: run_checked(ours, env), lambda: run_checked(noop, env),
                             runs)
    except BenchFailure as exc:
        return _failed(figure, exc)
    return paired_row(figure, timing, "no-op bootstrap")


def rss_row(script: Path, env: dict[str, str]) -> Row:
    figure = "peak RSS of a headless run"
    try:
        ours = peak_rss_mib([*ayon_command(), "--headless", str(script)], env)
        python = peak_rss_mib([sys.executable, str(script)], env)
    except BenchFailure as exc:
        return _failed(figure, exc)
    return Row(figure, f"{ours:.0f} MiB", f"python script.py {python:.0f} MiB",
               f"{ours / python:.2f}x", "<= 40 MiB", _verdict(ours <= 40))


def verify_row(work: Path, runs: int) -> Row:
    from verify_benchmark import measure

    try:
        timing = measure(work / "verify", runs=max(runs, 9))
    except Exception as exc:  # noqa: BLE001 - the other rows still print
        return _failed("start-up check of installed items", exc)
    figure = f"start-up check, 10 add-ons, {timing.files} files"
    return Row(figure, f"{timing.check * 1000:.1f} ms",
               f"os.stat of every file {timing.stat_walk * 1000:.1f} ms",
               f"{timing.check / timing.stat_walk:.2f}x (--verify {timing.full * 1000:.0f} ms)",
               "<= 0.25x", _verdict(timing.check / timing.stat_walk <= 0.25))


def sync_row(server: object, work: Path, size_mb: int, count: int, runs: int,
             workers: int) -> Row:
    from sync_benchmark import archive_bytes, measure_cold_sync, missing_tools, upload_bench_bundle

    try:
        addons = upload_bench_bundle(server, work, size_mb, count)
        size = archive_bytes(server, addons) / 1024 / 1024
        figure = f"cold sync, {count} add-ons, {size:.0f} MB"
        times = measure_cold_sync(server, work, addons, runs, workers)
    except BenchFailure as exc:
        return _failed(f"cold sync, {count} add-ons", exc)
    if missing_tools():
        return Row(figure, _ms(times.wall),
                   f"skipped: {', '.join(missing_tools())} not installed "
                   "(apt-get install -y curl unzip)")
    return Row(figure, _ms(times.wall),
               f"curl + unzip, {workers} at once {_ms(times.base_wall)}", _ratios(times),
               "<= 1.2x", _verdict(times.ratio <= 1.2))


def farm_row(launchers: int, size_mb: int) -> Row:
    from farm_benchmark import measure

    figure = f"farm: {launchers} launchers at once, one shared store"
    try:
        result = measure(launchers=launchers, addons=4, size_mb=size_mb)
    except BenchFailure as exc:
        return _failed(figure, exc)
    downloads = sum(result.downloads.values())
    single_cpu = result.single_cpu or float("nan")
    floor = launchers * result.single_cpu / (os.cpu_count() or 1)
    return Row(f"{figure}, 4 add-ons, {size_mb} MB, cold",
               f"{result.farm_seconds:.1f} s, {result.requests} requests",
               f"1 launcher {result.single_seconds:.1f} s, {result.single_requests} requests "
               f"(cpu floor {floor:.1f} s)",
               f"{result.farm_seconds / result.single_seconds:.1f}x (cpu per launcher "
               f"{result.farm_cpu / result.launchers / single_cpu:.2f}x)",
               "each archive sent once, all start",
               _verdict(result.ok) + f" ({downloads} downloads of {result.archives})")



def official_rows(work: Path, runs: int, sync_runs: int) -> list[Row]:
    from official_benchmark import measure, speedup, unavailable

    figure = "vs ynput's official launcher (studio bundle, real server)"
    reason = unavailable()
    if reason:
        return [Row(figure, "skipped", reason)]
    try:
        result = measure(work, runs, sync_runs,
                         say=lambda text: print(f"  {text}", file=sys.stderr, flush=True))
    except Exception as exc:  # noqa: BLE001 - the other rows still print
        return [_failed(figure, exc)]
    official = f"official {result.official_version} from source"
    rows = [
        Row(f"cold sync vs official: core + applications + deps, {result.archives_mib:.0f} MiB",
            _ms(result.cold.wall), f"{official} {_ms(result.cold.base_wall)}",
            speedup(result.cold), "<= 1x", _verdict(result.cold.ratio <= 1)),
        Row("warm start vs official: ayon --headless script.py, same bundle",
            _ms(result.warm.wall), f"{official} {_ms(result.warm.base_wall)}",
            speedup(result.warm), "<= 0.25x (4x faster)", _verdict(result.warm.ratio <= 0.25)),
    ]
    if result.rss_ours_mib is not None and result.rss_official_mib is not None:
        rows.append(Row("peak RSS vs official: warm start of the studio bundle",
                        f"{result.rss_ours_mib:.0f} MiB",
                        f"{official} {result.rss_official_mib:.0f} MiB",
                        f"{result.rss_ours_mib / result.rss_official_mib:.2f}x"))
    return rows



def print_table(rows: list[Row], header: str) -> None:
    columns = [("figure", "figure"), ("median", "value"), ("baseline (same run)", "baseline"),
               ("ratio (cpu ratio)", "ratio"), ("target", "target"), ("met", "met")]
    widths = [max(len(title), *(len(getattr(r, key)) for r in rows)) for title, key in columns]
    print(header)
    print("  ".join(title.ljust(w) for (title, _), w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(getattr(row, key).ljust(w)
                        for (_, key), w in zip(columns, widths, strict=True)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs and a 40 MB bundle (about a minute, plus about two for "
                             "the official launcher's rows)")
    parser.add_argument("--runs", type=int, help="runs per start-up figure (default 9, quick 5)")
    parser.add_argument("--sync-runs", type=int,
                        help="runs of the cold sync figures (default 5, quick 3: a cold sync "
                             "varies more from run to run than a start)")
    parser.add_argument("--size-mb", type=int, help="size of the synced bundle (default 200)")
    parser.add_argument("--addons", type=int, default=8, help="add-ons in the synced bundle")
    parser.add_argument("--workers", type=int, default=4,
                        help="parallel downloads, ours and the baseline's")
    parser.add_argument("--skip-sync", action="store_true", help="skip the cold sync figure")
    parser.add_argument("--skip-official", action="store_true",
                        help="skip the comparison with ynput's official launcher (it starts a "
                             "real AYON server: about two minutes more)")
    parser.add_argument("--skip-farm", action="store_true",
                        help="skip the 64-launcher farm figure (1 to 2 minutes on 2 cores)")
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 9)
    sync_runs = args.sync_runs or (3 if args.quick else 5)
    size_mb = args.size_mb or (40 if args.quick else 200)
    count = min(args.addons, 4) if args.quick and not args.size_mb else args.addons

    from ayon_launcher.localserver.testing import start_test_server

    compile_bytecode()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="ayon-bench-") as tmp:
        work = Path(tmp)
        script = work / "script.py"
        script.write_text("import sys\nsys.exit(0)\n")
        print(f"start-up ({runs} runs) ...", file=sys.stderr)
        rows.append(startup_row(script, runs))
        with start_test_server(work / "server", demo=True) as server:
            env = launcher_env(server, work, work / "local")
            print("no-op bootstrap ...", file=sys.stderr)
            rows.extend(noop_rows(work, env, runs))
            print("extractenvironments ...", file=sys.stderr)
            rows.append(extract_row(script, env, work, runs))
            rows.append(rss_row(script, env))
            if not args.skip_sync:
                print(f"cold sync of {size_mb} MB ({sync_runs} runs) ...", file=sys.stderr)
                rows.append(sync_row(server, work, size_mb, count, sync_runs, args.workers))
        shutil.rmtree(work / "server", ignore_errors=True)
        print("start-up check of installed items ...", file=sys.stderr)
        rows.append(verify_row(work, runs))
        if not args.skip_official:
            print(f"official launcher side by side ({runs} warm, {sync_runs} cold runs) ...",
                  file=sys.stderr)
            rows.extend(official_rows(work / "official", runs, sync_runs))
    if not args.skip_farm:
        print("farm: 64 launchers at once ...", file=sys.stderr)
        rows.append(farm_row(64, 8 if args.quick else 20))

    header = (f"AYON launcher benchmarks: python {platform.python_version()}, "
              f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}; medians")
    print_table(rows, header)
    print("(cpu ratio: user + system time of the processes, steadier than wall time when "
          "other work shares the machine)")
    return 1 if any(r.value == "failed" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
