"""Add-on sync benchmark: cold sync of a bundle (~200 MB) vs ``curl`` + ``unzip`` of its archives.

Usage: ``python benchmarks/sync_benchmark.py [--runs 3] [--size-mb 200] [--addons 8]``; also
used by ``benchmarks/run.py``. Starts the local server in a temp folder, uploads a bundle of
add-ons (python sources plus incompressible binary data, like real client code with its
resources) and times the real ``ayon --headless --bundle bench script.py`` with an empty store.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import (
    BenchFailure,
    Timing,
    ayon_command,
    compile_bytecode,
    launcher_env,
    median_pair,
    run_checked,
)

BUNDLE = "bench"
VERSION = "1.0.0"
WORDS = ("import", "def", "return", "self", "settings", "folder", "task", "version", "path",
         "environment", "publish", "render", "context", "product", "representation", "None")


def _source_file(rng: random.Random, index: int) -> str:
    lines = [f'"""Generated module {index}."""', ""]
    for fn in range(40):
        body = " ".join(rng.choice(WORDS) for _ in range(8))
        lines += [f"def function_{fn}(value):", f"    # {body}", "    return value", ""]
    return "\n".join(lines)


def client_zip(package: str, addon_name: str, size: int, seed: int) -> bytes:
    """A client zip: a real AYONAddon package, ~300 small modules and binary blobs to ``size``."""
    rng = random.Random(seed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(f"{package}/__init__.py", (
            "from ayon_launcher.pipeline.addons import AYONAddon\n"
            f"class BenchAddon(AYONAddon):\n    name = {addon_name!r}\n"
            f"    version = {VERSION!r}\n"
        ))
        written = 0
        for index in range(300):
            text = _source_file(rng, index).encode()
            zf.writestr(f"{package}/lib/module_{index:03d}.py", text)
            written += len(text) // 6  # roughly what it weighs once deflated
        blob = 512 * 1024
        index = 0
        while written < size:
            zf.writestr(f"{package}/resources/blob_{index:04d}.bin", rng.randbytes(blob))
            written += blob
            index += 1
    return buffer.getvalue()


def addon_package(work: Path, name: str, size: int, seed: int) -> Path:
    """A server add-on package (package.py + private/client.zip), as uploaded to AYON."""
    path = work / f"{name}-{VERSION}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("package.py", f'name = "{name}"\nversion = "{VERSION}"\n')
        zf.writestr("private/client.zip", client_zip(f"{name}_client", name, size, seed))
    return path


def upload_bench_bundle(server: Any, work: Path, size_mb: int, count: int) -> dict[str, str]:
    """Upload ``count`` add-ons totalling ``size_mb`` and create bundle ``bench``."""
    per_addon = size_mb * 1024 * 1024 // count
    addons = {}
    for index in range(count):
        name = f"bench{index:02d}"
        package = addon_package(work, name, per_addon, seed=index)
        server.add_addon_zip(package)
        package.unlink()
        addons[name] = VERSION
    server.create_bundle(BUNDLE, addons)
    return addons


def archive_bytes(server: Any, addons: dict[str, str]) -> int:
    return sum((server.store.addon_dir(name, version) / "client.zip").stat().st_size
               for name, version in addons.items())


def curl_unzip(server: Any, addons: dict[str, str], out: Path, workers: int) -> Callable[[], None]:
    """The baseline: ``curl`` each client archive then ``unzip`` it, ``workers`` at a time."""
    curl, unzip = shutil.which("curl"), shutil.which("unzip")

    def one(name: str, version: str) -> None:
        archive = out / f"{name}.zip"
        url = f"{server.url}/addons/{name}/{version}/private/client.zip"
        run_checked([curl, "-sSf", "-H", f"X-Api-Key: {server.service_api_key}", "-o",
                     str(archive), url])
        run_checked([unzip, "-q", "-o", str(archive), "-d", str(out / name)])
        archive.unlink()

    def run() -> None:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(one, n, v) for n, v in addons.items()]:
                future.result()

    return run


def missing_tools() -> list[str]:
    return [tool for tool in ("curl", "unzip") if shutil.which(tool) is None]


def measure_cold_sync(server: Any, work: Path, addons: dict[str, str], runs: int,
                      workers: int) -> Timing:
    """Our cold sync and the curl + unzip baseline (interleaved runs; no baseline figures
    when curl or unzip is missing)."""
    script = work / "noop_script.py"
    script.write_text("import sys\nsys.exit(0)\n")
    local = work / "bench-local"
    env = launcher_env(server, work, local)
    env["AYON_LAUNCHER_DOWNLOAD_WORKERS"] = str(workers)
    ours = [*ayon_command(), "--headless", "--bundle", BUNDLE, str(script)]
    out = work / "baseline"

    def wipe_ours() -> None:
        shutil.rmtree(local, ignore_errors=True)

    def wipe_baseline() -> None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()

    if missing_tools():
        return median_pair(lambda: run_checked(ours, env), None, runs, before=wipe_ours)
    baseline = curl_unzip(server, addons, out, workers)
    result = median_pair(lambda: run_checked(ours, env), baseline, runs, before=wipe_ours,
                         before_baseline=wipe_baseline)
    # Same result on disk: every add-on extracted in both.
    for name in addons:
        if not (local / "addons" / f"{name}_{VERSION}" / f"{name}_client").is_dir():
            raise BenchFailure(f"cold sync did not install {name}")
        if not (out / name / f"{name}_client").is_dir():
            raise BenchFailure(f"baseline did not extract {name}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--addons", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4,
                        help="parallel downloads, ours and the baseline's")
    args = parser.parse_args()

    from ayon_launcher.localserver.testing import start_test_server

    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="ayon-sync-bench-") as tmp:
        work = Path(tmp)
        with start_test_server(work / "server", demo=False) as server:
            addons = upload_bench_bundle(server, work, args.size_mb, args.addons)
            size = archive_bytes(server, addons) / 1024 / 1024
            times = measure_cold_sync(server, work, addons, args.runs, args.workers)
    print(f"cold sync of {args.addons} add-ons, {size:.0f} MB of archives, median of "
          f"{args.runs} runs")
    print(f"  ayon cold sync:   {times.wall:7.3f} s (cpu {times.cpu:.3f} s)")
    if not missing_tools():
        print(f"  curl + unzip:     {times.base_wall:7.3f} s (cpu {times.base_cpu:.3f} s)")
        print(f"  ratio:            {times.ratio:7.2f}x (target <= 1.2x), "
              f"cpu {times.cpu_ratio:.2f}x")
    else:
        print(f"  curl + unzip baseline skipped: not installed: {', '.join(missing_tools())}"
              " (apt-get install -y curl unzip)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
