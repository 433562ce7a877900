"""Shared helpers of the benchmarks: timing, commands, isolated launcher environment."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class BenchFailure(Exception):
    """A benchmarked command failed: the row is reported as failed, the others still run."""


def ayon_command() -> list[str]:
    """The installed ``ayon`` console script beside this python, else ``python -m``."""
    script = Path(sys.executable).with_name("ayon")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "ayon_launcher"]


def clean_env() -> dict[str, str]:
    """os.environ without any AYON/OpenPype variable of the calling shell, nor a CA bundle
    setting (a farm node usually has none, and then the launcher has certifi's to find), nor
    PYTHONDONTWRITEBYTECODE (a development shell's: a node's add-ons get their bytecode cached
    at their first import, as any Python code)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AYON_", "OPENPYPE_", "USE_AYON"))
            and k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PYTHONDONTWRITEBYTECODE")}


def launcher_env(server: Any, work: Path, local: Path) -> dict[str, str]:
    """A launcher environment of its own: server URL + service API key, private folders."""
    env = clean_env()
    env.update(
        AYON_SERVER_URL=server.url,
        AYON_API_KEY=server.service_api_key,
        AYON_LAUNCHER_LOCAL_DIR=str(local),
        AYON_LAUNCHER_CONFIG_DIR=str(work / "config"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return env


def compile_bytecode() -> None:
    """Byte-compile the launcher as ``pip install`` does: a source checkout run with
    PYTHONDONTWRITEBYTECODE would otherwise compile every module at every start."""
    import compileall

    import ayon_launcher

    compileall.compile_dir(str(Path(ayon_launcher.__file__).parent), quiet=1)


def run_checked(cmd: list[str], env: dict[str, str] | None = None,
                cwd: Path | None = None) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BenchFailure(f"`{' '.join(Path(c).name for c in cmd[:4])} ...` exited "
                           f"{done.returncode}: {' | '.join(tail)}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Timing:
    """Medians of one measured command and of its baseline: wall clock and CPU (user + sys of
    the child processes; steadier than wall time when other work shares the machine)."""

    wall: float
    base_wall: float = float("nan")
    cpu: float = float("nan")
    base_cpu: float = float("nan")

    @property
    def ratio(self) -> float:
        return self.wall / self.base_wall

    @property
    def cpu_ratio(self) -> float:
        return self.cpu / self.base_cpu


def _timed(run: Callable[[], None], before: Callable[[], None] | None) -> tuple[float, float]:
    if before:
        before()
    cpu = _children_cpu()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start, _children_cpu() - cpu


def median_each(commands: list[Callable[[], None]], runs: int,
                before: list[Callable[[], None] | None] | None = None
                ) -> list[tuple[float, float]]:
    """(wall, cpu) medians of each of ``commands``, run in turn ``runs`` times so that a load
    change on the machine hits all alike. ``before[i]`` prepares command i, untimed."""
    prepare = before or [None] * len(commands)
    times: list[list[tuple[float, float]]] = [[] for _ in commands]
    for _ in range(max(1, runs)):
        for i, run in enumerate(commands):
            times[i].append(_timed(run, prepare[i]))
    return [(statistics.median(w for w, _ in each), statistics.median(c for _, c in each))
            for each in times]


def median_pair(run: Callable[[], None], baseline: Callable[[], None] | None, runs: int,
                before: Callable[[], None] | None = None,
                before_baseline: Callable[[], None] | None = None) -> Timing:
    """Medians of ``run`` and ``baseline``, measured alternately (``median_each``).
    Preparation (``before*``) is not timed."""
    if baseline is None:
        ((wall, cpu),) = median_each([run], runs, [before])
        return Timing(wall=wall, cpu=cpu)
    (wall, cpu), (base_wall, base_cpu) = median_each([run, baseline], runs,
                                                     [before, before_baseline])
    return Timing(wall=wall, base_wall=base_wall, cpu=cpu, base_cpu=base_cpu)


def peak_rss_mib(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    """Peak resident memory of ``cmd`` (and its children), through a fresh wrapper process:
    this process's RUSAGE_CHILDREN would keep the maximum of every earlier child."""
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, *cmd], env=env, capture_output=True,
                          text=True, check=True, cwd=cwd)
    code, rss = done.stdout.split()
    if code != "0":
        raise BenchFailure(f"`{' '.join(cmd[:3])} ...` exited {code}")
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    return int(rss) / (1024 * 1024 if sys.platform == "darwin" else 1024)
