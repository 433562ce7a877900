"""Install size and time of the launcher with and without the ``[server]`` extra.

Each variant is installed (not editable: what a workstation gets) into a fresh virtual
environment with the pip and package index this machine is set up for; the pip cache (or
local wheel folder) should be warm, so that the time is pip's and not the network's: the
first run warms it. Reported: the time of ``pip install`` alone (the venv's creation is not
counted; wall clock and CPU time of pip and its children), the size of the venv's
site-packages, and the number of distributions. Each venv
is then checked: without the extra ``ayon server`` must give its one-line error (exit 2),
with it the server must import.

    python benchmarks/install_size.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"ayon-launcher": "", "ayon-launcher[server]": "[server]"}


def tree_size(path: Path) -> int:
    """Bytes of the files under ``path`` (symlinks not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(folder, name)).st_size
    return total


def install(extra: str, work: Path) -> dict[str, float | int | str]:
    """One fresh venv with the launcher (+ ``extra``): time, size, distributions, check."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{ROOT}{extra}"],
                   check=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    site = next((venv / "lib").glob("python3*/site-packages"))
    dists = len(list(site.glob("*.dist-info")))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AYON_")}
    env["AYON_LAUNCHER_LOCAL_DIR"] = str(work / "local")
    if extra:
        probe = subprocess.run([str(python), "-c", "import ayon_launcher.localserver.app"],
                               capture_output=True, text=True, env=env)
        check = "server imports" if probe.returncode == 0 else f"FAILED: {probe.stderr}"
    else:
        done = subprocess.run([str(venv / "bin" / "ayon"), "server", "--port", "0",
                               "--data-dir", str(work / "data")],
                              capture_output=True, text=True, env=env, timeout=120)
        check = (f"`ayon server`: exit {done.returncode}, "
                 f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}")
    return {"seconds": seconds, "cpu": cpu, "bytes": tree_size(site), "dists": dists,
            "check": check}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="installs per variant (median)")
    args = parser.parse_args()
    results: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="ayon-install-size-") as tmp:
        for run in range(args.runs):
            for name, extra in VARIANTS.items():
                work = Path(tmp) / f"{run}-{extra.strip('[]') or 'base'}"
                work.mkdir()
                results[name].append(install(extra, work))
    print(f"{'install':<24} {'pip install':>12} {'(CPU)':>8} {'site-packages':>14} "
          f"{'dists':>6}  check")
    for name, rows in results.items():
        seconds = statistics.median(r["seconds"] for r in rows)
        cpu = statistics.median(r["cpu"] for r in rows)
        size = statistics.median(r["bytes"] for r in rows)
        print(f"{name:<24} {seconds:>10.1f} s {cpu:>6.1f} s {size / 1e6:>11.1f} MB "
              f"{rows[0]['dists']:>6}  {rows[0]['check']}")
    base, full = (results[name] for name in VARIANTS)
    saved = statistics.median(r["bytes"] for r in full) - statistics.median(
        r["bytes"] for r in base)
    print(f"the [server] extra adds {saved / 1e6:.1f} MB and "
          f"{full[0]['dists'] - base[0]['dists']} distributions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
