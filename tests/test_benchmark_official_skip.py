"""benchmarks/official_benchmark.py where ynput's peers are absent: it says why and skips.

The benchmark itself (a real server, both launchers, several cold syncs) is too slow for the
suite; this checks its skip path, in a copy of benchmarks/ and tests/harness/ laid out as a
checkout whose ``../shared/peers`` does not exist, as on a machine without the peers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NEEDS = "needs ayon-backend-*.tar.gz, ayon-core-*.tar.gz, ayon-applications-*.tar.gz, " \
        "ayon-launcher-*.tar.gz in ../shared/peers"


def _checkout_without_peers(tmp_path: Path) -> Path:
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "benchmarks", checkout / "benchmarks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "tests" / "harness", checkout / "tests" / "harness",
                    ignore=shutil.ignore_patterns("__pycache__"))
    assert not (checkout.parent / "shared" / "peers").exists()
    return checkout


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k not in ("AYON_PEERS_DIR", "AYON_BACKEND_SOURCE")}


def test_official_benchmark_skips_with_its_reason(tmp_path):
    checkout = _checkout_without_peers(tmp_path)
    done = subprocess.run([sys.executable, str(checkout / "benchmarks" / "official_benchmark.py"),
                           "--quick"], env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"official launcher comparison skipped: {NEEDS} " \
                                  "(or AYON_PEERS_DIR)"
    assert "Traceback" not in done.stderr
    assert "[real-server]" not in done.stderr  # no server was started


def test_run_py_prints_the_skip_as_a_row(tmp_path):
    checkout = _checkout_without_peers(tmp_path)
    probe = ("import sys\n"
             "sys.path.insert(0, sys.argv[1])\n"
             "import run\n"
             "for row in run.official_rows(run.Path(sys.argv[2]), 1, 1):\n"
             "    print(row.figure, '|', row.value, '|', row.baseline)\n")
    done = subprocess.run([sys.executable, "-c", probe, str(checkout / "benchmarks"),
                           str(tmp_path / "work")], env=_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"vs ynput's official launcher (studio bundle, real server) | skipped | {NEEDS} "
        "(or AYON_PEERS_DIR)"]
