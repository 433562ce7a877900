"""Start-up check of installed items: 10 add-ons, 20,000 files, against a plain ``os.stat`` walk.

Usage: ``python benchmarks/verify_benchmark.py [--runs 15] [--addons 10] [--files 2000]``;
also used by ``benchmarks/run.py``. Installs the add-ons through the real sync path (zips on
a filesystem source: extraction, manifest, metadata), imports nothing but writes the
``__pycache__`` folders an import would (and runs one check, which seals them), then times
what every start does for each item (metadata read + cheap check) against ``os.stat`` of
every installed file (the cost of a per-file size check) and reports the full check
(``--verify``) too. Not part of the tests.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

FILES_PER_FOLDER = 10  # about what Python packages have


@dataclass
class VerifyTiming:
    check: float  # seconds, median: metadata + cheap check of every item
    metadata_only: float  # the metadata reads alone (what a start did before the check)
    stat_walk: float  # os.stat of every installed file
    full: float  # --verify: every file read
    files: int
    folders: int


def _client_zip(index: int, files: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for number in range(files):
            folder = number // FILES_PER_FOLDER
            body = f"VALUE = {number}\n" + "# padding line of a module\n" * (number % 40)
            zf.writestr(f"bench{index:02d}/sub{folder // 20:02d}/pkg{folder:03d}/"
                        f"mod{number:04d}.py", body)
    return buffer.getvalue()


def _items(work: Path, addons: int, files: int) -> list:
    from ayon_launcher.bootstrapper.distribution.models import DistItem, FilesystemSource, addon_dir

    items = []
    for index in range(addons):
        archive = work / f"bench{index:02d}.zip"
        archive.write_bytes(_client_zip(index, files))
        items.append(DistItem(kind="addon", name=f"bench{index:02d}", version="1.0.0",
                              checksum=None, algorithm="sha256",
                              sources=[FilesystemSource(str(archive))],
                              target=addon_dir(f"bench{index:02d}", "1.0.0")))
    return items


def _median(run, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(work: Path, runs: int = 15, addons: int = 10, files: int = 2000) -> VerifyTiming:
    """Install the bench add-ons under ``work`` and time the checks (in this process)."""
    before = os.environ.get("AYON_LAUNCHER_LOCAL_DIR")
    os.environ["AYON_LAUNCHER_LOCAL_DIR"] = str(work / "local")
    try:
        return _measure(work, runs, addons, files)
    finally:
        if before is None:
            os.environ.pop("AYON_LAUNCHER_LOCAL_DIR", None)
        else:
            os.environ["AYON_LAUNCHER_LOCAL_DIR"] = before


def _measure(work: Path, runs: int, addons: int, files: int) -> VerifyTiming:
    work.mkdir(parents=True, exist_ok=True)
    from ayon_launcher.bootstrapper.distribution import store
    from ayon_launcher.bootstrapper.distribution.sources import FetchSettings
    from ayon_launcher.bootstrapper.distribution.sync import sync_items

    items = _items(work, addons, files)
    sync_items(items, FetchSettings())
    paths, folders = [], []
    for item in items:
        for root, dirs, names in os.walk(item.target):
            if any(n.endswith(".py") for n in names):
                os.makedirs(os.path.join(root, "__pycache__"), exist_ok=True)  # an import
            folders += [os.path.join(root, d) for d in dirs]
            paths += [os.path.join(root, n) for n in names if not n.startswith(".ayon")]

    def check(full: bool = False) -> None:
        for item in items:
            meta = store.installed_metadata(item)
            damage = store.check_installed(item.target, item.label, meta, full)
            if damage is not None:
                raise SystemExit(f"{item.label}: {damage}")

    def metadata_only() -> None:
        for item in items:
            store.installed_metadata(item)

    def stat_walk() -> None:
        stat = os.stat
        for path in paths:
            stat(path)

    check()  # seals the folders the "import" changed, as the first start after one does
    timing = VerifyTiming(check=0.0, metadata_only=0.0, stat_walk=0.0, full=0.0,
                          files=len(paths), folders=len(folders))
    # Alternately, so that a load change on the machine hits all alike.
    checks, metas, walks = [], [], []
    for _ in range(runs):
        checks.append(_median(check, 1))
        metas.append(_median(metadata_only, 1))
        walks.append(_median(stat_walk, 1))
    timing.check = statistics.median(checks)
    timing.metadata_only = statistics.median(metas)
    timing.stat_walk = statistics.median(walks)
    timing.full = _median(lambda: check(full=True), max(1, runs // 5))
    return timing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--addons", type=int, default=10)
    parser.add_argument("--files", type=int, default=2000, help="files per add-on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ayon-verify-bench-") as tmp:
        t = measure(Path(tmp), args.runs, args.addons, args.files)
    print(f"{args.addons} add-ons, {t.files} files in {t.folders} folders; medians of "
          f"{args.runs} runs")
    print(f"start-up check (metadata + cheap check): {t.check * 1000:.2f} ms")
    print(f"  of which metadata reads alone:        {t.metadata_only * 1000:.2f} ms")
    print(f"baseline, os.stat of every file:        {t.stat_walk * 1000:.2f} ms "
          f"(ratio {t.check / t.stat_walk:.2f}x)")
    print(f"full check (--verify):                  {t.full * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
