"""Side by side with ynput's official launcher: cold sync and warm start of a real studio bundle.

Usage: ``python benchmarks/official_benchmark.py [--quick] [--runs N] [--sync-runs N]``; also
used by ``benchmarks/run.py`` (``--skip-official`` leaves it out). Not part of the test suite.

Both launchers run against the same private real AYON server (ynput's ayon-backend from
``../shared/peers``) and the same studio bundle (ayon-core + ayon-applications built by their
own ``create_package.py``, with a dependency package of their client requirements), each with
its own empty storage/local folders, the same service API key and no keyring:

* ours: the ``ayon`` console script of this Python (``ayon --headless --bundle B script.py``);
* the official one: ynput's ayon-launcher from source, ``python start.py --headless --bundle B
  script.py`` from its own folder in a Python 3.11 virtual environment of its own locked
  dependencies (+ PySide6 as its builds ship).

Figures (medians, the two launchers run alternately so that a load change hits both alike):
the cold sync (storage and local folders wiped before each run: add-ons and dependency package
downloaded and extracted, then the script run), the warm start (everything installed; the
installed folders are checked to be left as they were), and the peak RSS of a warm start.
Without ``../shared/peers`` (or Postgres/Redis, or Python 3.11) it prints why and skips.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import BenchFailure, Timing, ayon_command, median_pair, peak_rss_mib, run_checked

# The test harness (tests/harness: private real server with its cached backend venv, studio
# bundle, official launcher from source) is reused rather than copied: tests/ goes on sys.path
# so that it imports as the package ``harness``, as the tests import it.
TESTS_DIR = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS_DIR) not in sys.path:
    sys.path.append(str(TESTS_DIR))

PEERS = ("ayon-backend", "ayon-core", "ayon-applications", "ayon-launcher")

# The timed script does nothing; the untimed warm start tells where it ran (the bundle named in
# its environment) through the file BENCH_MARK names.
SCRIPT = """import os, sys
mark = os.environ.get("BENCH_MARK")
if mark:
    with open(mark, "w") as out:
        out.write(os.environ.get("AYON_BUNDLE_NAME", "no AYON_BUNDLE_NAME"))
sys.exit(0)
"""


@dataclass
class OfficialComparison:
    """Ours (``wall``/``cpu``) against the official launcher (``base_*``), same run."""

    official_version: str
    archives_mib: float
    cold: Timing
    warm: Timing
    rss_ours_mib: float | None = None
    rss_official_mib: float | None = None


def unavailable() -> str:
    """Why the comparison cannot run here ('' when it can)."""
    if not TESTS_DIR.joinpath("harness", "official.py").is_file():
        return f"the test harness is not at {TESTS_DIR / 'harness'}"
    from harness import studio
    from harness.real_server import services_missing

    missing = studio.missing_peers(*PEERS[1:])
    if not os.environ.get("AYON_BACKEND_SOURCE") and studio.peer_archive("ayon-backend") is None:
        missing.insert(0, "ayon-backend")
    if missing:
        return (f"needs {', '.join(f'{m}-*.tar.gz' for m in missing)} in ../shared/peers "
                "(or AYON_PEERS_DIR)")
    return services_missing()


def _archives_mib(bundle: Any) -> float:
    """Size of what a cold sync downloads: the client archives and the dependency package."""
    total = bundle.dependency_package.zip_path.stat().st_size
    for path in bundle.addon_zips.values():
        with zipfile.ZipFile(path) as zf:
            total += sum(i.file_size for i in zf.infolist()
                         if i.filename.startswith("private/client"))
    return total / 1024 / 1024


def _installed(storage: Path) -> dict[str, int]:
    """Inode of every installed add-on and dependency package folder (to tell a re-install)."""
    return {f"{kind}/{p.name}": p.stat().st_ino
            for kind in ("addons", "dependency_packages") if (storage / kind).is_dir()
            for p in (storage / kind).iterdir() if p.is_dir()}


def _check_installed(name: str, storage: Path, bundle: Any) -> None:
    for addon, version in bundle.addons.items():
        if not (storage / "addons" / f"{addon}_{version}").is_dir():
            raise BenchFailure(f"{name} did not install {addon} {version} in {storage}")
    if not any((storage / "dependency_packages").glob("*")):
        raise BenchFailure(f"{name} did not install the dependency package in {storage}")


def measure(work: Path, runs: int, sync_runs: int, *, rss: bool = True,
            say: Any = print) -> OfficialComparison:
    """Start a real server with the studio bundle and time both launchers on it."""
    from harness import official, studio
    from harness.real_server import start_real_server

    say("official launcher venv (cached) ...")
    launcher = official.official_launcher()
    say("real AYON server and studio bundle ...")
    with start_real_server(work / "server") as server:
        bundle = studio.install_studio_bundle(server)
        script = work / "script.py"
        script.write_text(SCRIPT)
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("AYON_", "OPENPYPE_", "USE_AYON", "VIRTUAL_ENV",
                                     "PYTHON"))}
        base.update(AYON_SERVER_URL=bundle.url, AYON_API_KEY=server.service_api_key,
                    QT_QPA_PLATFORM="offscreen",
                    PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        folders = {name: work / name for name in ("ours", "official")}
        envs = {name: {**base, "AYON_LAUNCHER_STORAGE_DIR": str(folder / "storage"),
                       "AYON_LAUNCHER_LOCAL_DIR": str(folder / "local"),
                       "AYON_LAUNCHER_CONFIG_DIR": str(folder / "config")}
                for name, folder in folders.items()}
        # The official launcher from source, as an activated venv would run it.
        envs["official"]["PATH"] = os.pathsep.join([str(launcher.python.parent),
                                                    base.get("PATH", "")])
        args = ["--headless", "--bundle", bundle.bundle_name, str(script)]
        commands = {"ours": [*ayon_command(), *args],
                    "official": [str(launcher.python), str(launcher.start_py), *args]}
        cwds = {"ours": None, "official": launcher.root}

        def runner(name: str) -> Any:
            return lambda: run_checked(commands[name], envs[name], cwd=cwds[name])

        def wiper(name: str) -> Any:
            return lambda: shutil.rmtree(folders[name], ignore_errors=True)

        say(f"cold sync of the studio bundle, {sync_runs} runs each ...")
        cold = median_pair(runner("ours"), runner("official"), sync_runs,
                           before=wiper("ours"), before_baseline=wiper("official"))
        for name in folders:
            _check_installed(name, folders[name] / "storage", bundle)
            # One untimed warm start each (bytecode of the add-ons written), which must run
            # the script in the bundle's environment.
            mark = work / f"{name}.mark"
            run_checked(commands[name], {**envs[name], "BENCH_MARK": str(mark)},
                        cwd=cwds[name])
            ran_in = mark.read_text() if mark.exists() else "nothing (the script did not run)"
            if ran_in != bundle.bundle_name:
                raise BenchFailure(f"{name}: the script ran in {ran_in}, not in the bundle "
                                   f"{bundle.bundle_name}")
        installed = {name: _installed(folders[name] / "storage") for name in folders}
        say(f"warm start, {runs} runs each ...")
        warm = median_pair(runner("ours"), runner("official"), runs)
        for name in folders:
            if _installed(folders[name] / "storage") != installed[name]:
                raise BenchFailure(f"{name}: a warm start installed the bundle again")
        result = OfficialComparison(official_version=launcher.version,
                                    archives_mib=_archives_mib(bundle), cold=cold, warm=warm)
        if rss:
            result.rss_ours_mib = peak_rss_mib(commands["ours"], envs["ours"])
            result.rss_official_mib = peak_rss_mib(commands["official"], envs["official"],
                                                   cwd=launcher.root)
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def speedup(timing: Timing) -> str:
    """``0.50x: 2.00x faster (cpu 0.45x)``: ours over the official launcher's time."""
    faster = f"{1 / timing.ratio:.2f}x faster" if timing.ratio <= 1 else "slower"
    return f"{timing.ratio:.2f}x: {faster} (cpu {timing.cpu_ratio:.2f}x)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--runs", type=int, help="warm starts each (default 9, quick 5)")
    parser.add_argument("--sync-runs", type=int, help="cold syncs each (default 3, quick 2)")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak RSS figure")
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 9)
    sync_runs = args.sync_runs or (2 if args.quick else 3)
    reason = unavailable()
    if reason:
        print(f"official launcher comparison skipped: {reason}")
        return 0
    with tempfile.TemporaryDirectory(prefix="ayon-official-bench-") as tmp:
        try:
            result = measure(Path(tmp), runs, sync_runs, rss=not args.no_rss,
                             say=lambda text: print(text, file=sys.stderr, flush=True))
        except Exception as exc:  # noqa: BLE001 - one line, not a traceback
            print(f"official launcher comparison failed: {exc}")
            return 1
    print(f"ynput ayon-launcher {result.official_version} (from source) vs ours, studio "
          f"bundle ({result.archives_mib:.0f} MiB of archives), medians, alternate runs")
    for label, timing, count in (("cold sync", result.cold, sync_runs),
                                 ("warm start", result.warm, runs)):
        print(f"  {label + ':':12} ours {_ms(timing.wall):>8}  official {_ms(timing.base_wall):>8}"
              f"  ({count} runs each)  {speedup(timing)}")
    if result.rss_ours_mib is not None and result.rss_official_mib is not None:
        print(f"  {'peak RSS:':12} ours {result.rss_ours_mib:5.0f} MiB  official "
              f"{result.rss_official_mib:5.0f} MiB  "
              f"({result.rss_ours_mib / result.rss_official_mib:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
