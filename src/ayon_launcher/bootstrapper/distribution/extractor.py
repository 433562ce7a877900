"""Extraction in a helper process, so that several big archives extract on several cores.

zipfile runs in Python: two extractions in threads of one process share one core (and slow each
other down). For big archives a helper process, ``python -m
ayon_launcher.bootstrapper.distribution.extractor ARCHIVE TARGET LABEL``, does the same
``safe_extract`` and reports progress and the outcome as JSON lines on stdout. It dies with the
launcher: it never outlives a killed launcher to write into a work folder that a later start cleans
up.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ayon_launcher.bootstrapper.distribution.archives import (
    ArchiveError,
    LocalWriteError,
    safe_extract,
)

MIN_SIZE_ENV = "AYON_LAUNCHER_EXTRACT_PROCESS_MIN_MB"
DEFAULT_MIN_MB = 8.0
_PROGRESS_STEP = 4 * 1024 * 1024


def process_min_size(parallel_items: int) -> float | None:
    """The archive size (bytes) from which a helper process extracts, read from MIN_SIZE_ENV
    (a UsageError naming it when it is not a number >= 0); None when no archive should go to
    one: fewer than two items at once, one core, or a frozen build (no ``python -m``)."""
    from ayon_launcher.support.envconfig import env_number

    minimum = env_number(MIN_SIZE_ENV, DEFAULT_MIN_MB, minimum=0) * 1024 * 1024
    if parallel_items < 2 or (os.cpu_count() or 1) < 2 or getattr(sys, "frozen", False):
        return None
    return minimum


def worth_a_process(archive: Path, min_size: float | None) -> bool:
    """Whether ``archive`` should be extracted by a helper process (``min_size`` from
    ``process_min_size``)."""
    if min_size is None:
        return False
    try:
        return archive.stat().st_size >= min_size
    except OSError:
        return False


def extract_in_process(archive: Path, target: Path, what: str,
                       progress: Callable[[int, int], None] | None = None) -> None:
    """``safe_extract`` in a helper process; the same errors, raised here."""
    import subprocess  # here: most starts extract nothing, and it costs 1.5 ms of imports

    cmd = [sys.executable, "-m", "ayon_launcher.bootstrapper.distribution.extractor", str(archive),
           str(target), what]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, encoding="utf-8")
    outcome: dict | None = None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("progress") and progress:
                progress(*message["progress"])
            elif "error" in message:
                outcome = message
        stderr = proc.stderr.read() if proc.stderr else ""
    finally:
        # The launcher is stopping (an exception, Ctrl+C): the helper stops with it.
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if outcome is not None:
        kind = LocalWriteError if outcome["error"] == "write" else ArchiveError
        raise kind(outcome["message"])
    if proc.returncode != 0:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise ArchiveError(f"{what}: the extraction process failed "
                           f"(exit code {proc.returncode}: {last})")


def _die_with_parent() -> None:
    """Linux: be killed when the launcher dies (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


def _main(argv: list[str]) -> int:
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # the launcher died before the line above took effect
        return 1
    archive, target, what = argv
    last = [0]

    def report(done: int, total: int) -> None:
        if done - last[0] >= _PROGRESS_STEP or done >= total:
            last[0] = done
            print(json.dumps({"progress": [done, total]}), flush=True)

    try:
        safe_extract(Path(archive), Path(target), what, progress=report)
    except LocalWriteError as exc:
        print(json.dumps({"error": "write", "message": str(exc)}), flush=True)
        return 1
    except ArchiveError as exc:
        print(json.dumps({"error": "archive", "message": str(exc)}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
