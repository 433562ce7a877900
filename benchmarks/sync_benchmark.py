"""Add-on sync benchmark: cold sync vs curl + unzip, no-op bootstrap vs ``python -c pass``.

Usage: ``python benchmarks/sync_benchmark.py [--runs 3] [--size-mb 200] [--addons 8]``.
Starts the local server in a temp folder, uploads a bundle of add-ons with random (incompressible)
data, and prints the median of ``--runs`` runs as a table. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

BOOTSTRAP_CODE = (
    "from ayon_launcher.bootstrap import bootstrap;"
    "from ayon_launcher.context import LauncherContext;"
    "r = bootstrap(LauncherContext(headless=True));"
    "assert r.bundle_name, r"
)


def _median(run: Callable[[], None], runs: int, before: Callable[[], None] | None = None) -> float:
    samples = []
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _check(cmd: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd[:3])} ...\n{done.stderr[-2000:]}")


def _client_zip(package: str, addon_name: str, version: str, size: int) -> bytes:
    """A client zip with a real AYONAddon package and ``size`` bytes of random data."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{package}/__init__.py", (
            "from ayon_launcher.addons import AYONAddon\n"
            f"class BenchAddon(AYONAddon):\n    name = {addon_name!r}\n    version = {version!r}\n"
        ))
        chunk = 1024 * 1024
        for index in range(max(1, size // chunk)):
            zf.writestr(f"{package}/data/blob_{index:04d}.bin", os.urandom(chunk))
    return buffer.getvalue()


def _addon_package(work: Path, name: str, version: str, size: int) -> Path:
    """A server add-on package zip (package.py + private/client.zip), as uploaded to AYON."""
    path = work / f"{name}-{version}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("package.py", f'name = "{name}"\nversion = "{version}"\n'
                                  f'client_dir = "{name}_client"\n')
        zf.writestr("private/client.zip", _client_zip(f"{name}_client", name, version, size))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--addons", type=int, default=8)
    args = parser.parse_args()

    from ayon_launcher.localserver.testing import start_test_server

    with tempfile.TemporaryDirectory(prefix="ayon-sync-bench-") as tmp:
        work = Path(tmp)
        with start_test_server(work / "server", demo=False) as server:
            per_addon = args.size_mb * 1024 * 1024 // args.addons
            addons = {}
            for index in range(args.addons):
                name = f"bench{index:02d}"
                server.add_addon_zip(_addon_package(work, name, "1.0.0", per_addon))
                addons[name] = "1.0.0"
            server.create_bundle("bench", addons, is_production=True)

            env = {k: v for k, v in os.environ.items() if not k.startswith("AYON_")}
            env.update(AYON_SERVER_URL=server.url, AYON_API_KEY=server.service_api_key,
                       PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
                       AYON_LAUNCHER_CONFIG_DIR=str(work / "config"))
            local = work / "local"
            env["AYON_LAUNCHER_LOCAL_DIR"] = str(local)
            bootstrap_cmd = [sys.executable, "-c", BOOTSTRAP_CODE]

            def wipe() -> None:
                shutil.rmtree(local, ignore_errors=True)

            cold = _median(lambda: _check(bootstrap_cmd, env), args.runs, before=wipe)
            noop = _median(lambda: _check(bootstrap_cmd, env), args.runs)
            bare = _median(lambda: _check([sys.executable, "-c", "pass"]), args.runs)

            baseline = None
            curl, unzip = shutil.which("curl"), shutil.which("unzip")
            if curl and unzip:
                out = work / "baseline"

                def reset_baseline() -> None:
                    shutil.rmtree(out, ignore_errors=True)
                    out.mkdir()

                def curl_unzip() -> None:
                    for name, version in addons.items():
                        archive = out / f"{name}.zip"
                        url = f"{server.url}/api/addons/{name}/{version}/private/client.zip"
                        _check([curl, "-sSf", "-H", f"X-Api-Key: {server.service_api_key}",
                                "-o", str(archive), url])
                        _check([unzip, "-q", "-o", str(archive), "-d", str(out / name)])

                baseline = _median(curl_unzip, args.runs, before=reset_baseline)

    print(f"\nAYON launcher sync benchmark: {args.addons} add-ons, ~{args.size_mb} MB, "
          f"median of {args.runs} runs\n")
    rows = [("cold sync (bootstrap, empty store)", cold)]
    if baseline is not None:
        rows.append(("curl + unzip of the same archives (sequential)", baseline))
    rows += [("no-op bootstrap (everything up to date)", noop), ("python -c pass", bare)]
    width = max(len(label) for label, _ in rows)
    print(f"{'measure'.ljust(width)}  seconds")
    for label, value in rows:
        print(f"{label.ljust(width)}  {value:7.3f}")
    print()
    if baseline is not None:
        print(f"cold sync / (curl + unzip)        = {cold / baseline:5.2f}x")
    else:
        print("curl + unzip baseline skipped: curl or unzip is not installed")
    print(f"no-op bootstrap / python -c pass = {noop / bare:5.2f}x")


if __name__ == "__main__":
    main()
