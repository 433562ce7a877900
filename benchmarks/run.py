"""Start-up and bootstrap benchmarks: every figure is a ratio against a baseline of the same run.

Usage: ``python benchmarks/run.py [--runs N] [--skip-sync]``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _median_seconds(run: Callable[[], None], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _runner(cmd: list[str], env: dict[str, str]) -> Callable[[], None]:
    def run() -> None:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")

    return run


def _peak_rss_mib(cmd: list[str], env: dict[str, str]) -> float:
    # Measured through a fresh wrapper process: RUSAGE_CHILDREN of *this* process would keep the
    # maximum of every earlier child. ru_maxrss is in KiB on Linux.
    probe = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], check=True, capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", probe, *cmd], env=env, capture_output=True,
                          text=True, check=True)
    return int(done.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median)")
    parser.add_argument("--skip-sync", action="store_true", help="skip the 200 MB sync figure")
    args = parser.parse_args()

    from ayon_launcher.localserver.testing import start_test_server

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="ayon-bench-") as tmp:
        tmp_path = Path(tmp)
        script = tmp_path / "script.py"
        script.write_text("import sys\nsys.exit(0)\n")
        python = sys.executable
        ayon = [python, "-m", "ayon_launcher"]
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AYON_", "OPENPYPE_"))}

        baseline = _median_seconds(_runner([python, str(script)], base_env), args.runs)
        rows.append(("python script.py (baseline)", f"{baseline * 1000:.1f} ms", "1.00x"))

        skip = _median_seconds(
            _runner([*ayon, "--skip-bootstrap", str(script)], base_env), args.runs
        )
        rows.append(("ayon --skip-bootstrap script.py", f"{skip * 1000:.1f} ms",
                     f"{skip / baseline:.2f}x (target <= 1.5x)"))

        with start_test_server(tmp_path / "server", demo=True) as server:
            env = dict(
                base_env,
                AYON_SERVER_URL=server.url,
                AYON_API_KEY=server.service_api_key,
                AYON_LAUNCHER_LOCAL_DIR=str(tmp_path / "local"),
                AYON_LAUNCHER_CONFIG_DIR=str(tmp_path / "config"),
                PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
            )
            headless = [*ayon, "--headless", str(script)]
            _runner(headless, env)()  # first run syncs; the figure is the up-to-date start
            noop = _median_seconds(_runner(headless, env), args.runs)
            rows.append(("ayon --headless script.py (no-op bootstrap)", f"{noop * 1000:.1f} ms",
                         f"{noop / baseline:.2f}x (target < 300 ms absolute)"))

            out = tmp_path / "env.json"
            extract = [*ayon, "--headless", "extractenvironments", str(out),
                       "--project", "demo_Commercial", "--asset", "robot",
                       "--task", "modeling", "--app", "maya/2024"]
            _runner(extract, env)()
            extract_time = _median_seconds(_runner(extract, env), args.runs)
            rows.append(("ayon extractenvironments (full context)",
                         f"{extract_time * 1000:.1f} ms",
                         f"{extract_time / noop:.2f}x of no-op bootstrap"))
            if json.loads(out.read_text()).get("AYON_APP_NAME") is None:
                raise SystemExit("extractenvironments wrote no application environment")

            rss = _peak_rss_mib(headless, env)
            python_rss = _peak_rss_mib([python, str(script)], base_env)
            rows.append(("peak RSS of a headless run", f"{rss:.1f} MiB",
                         f"{rss / max(python_rss, 0.1):.2f}x of python's"))

    width = max(len(r[0]) for r in rows)
    print(f"{'figure'.ljust(width)}  {'median':>10}  ratio")
    for name, value, ratio in rows:
        print(f"{name.ljust(width)}  {value:>10}  {ratio}")

    if not args.skip_sync:
        print("\ncold sync of ~200 MB of add-ons vs curl + unzip:")
        subprocess.run([sys.executable, str(HERE / "sync_benchmark.py")], check=False)


if __name__ == "__main__":
    main()
