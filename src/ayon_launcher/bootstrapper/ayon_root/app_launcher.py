"""``app_launcher JSON``: start an application detached from the launcher (Linux).

ayon-core and ayon-applications start DCCs through it: they write ``{"args": ..., "env": ...}``
(optionally ``stdout``, ``stderr``, ``pid_file``) to a JSON file, run ``app_launcher FILE`` and
wait for it; it starts the application in a session of its own, writes the ``pid`` into the
same file and exits at once, so that the application outlives the launcher.
Standard library only: it runs as a small process of its own.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time

PID_FILE_WAIT = 0.5  # seconds a wrapper script gets to write the application's real PID


def _stream(path: str | None, mode: str = "ab") -> object:
    """An open file for ``path``; /dev/null when no path is given."""
    return open(path or os.devnull, mode)  # noqa: SIM115 - handed to the child, closed after


def launch(data: dict) -> int:
    """Start the process described by ``data``; its PID."""
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in (data.get("env") or {}).items()})
    pid_file = data.get("pid_file")
    if pid_file:
        env["AYON_PID_FILE"] = str(pid_file)
    args = data["args"]
    if isinstance(args, str):
        args = shlex.split(args)
    stdout_path = data.get("stdout")
    stderr_path = data.get("stderr")
    stdout = _stream(stdout_path)
    stderr = stdout if stderr_path == stdout_path else _stream(stderr_path)
    try:
        process = subprocess.Popen(  # noqa: S603 - starting the application is the job
            [str(a) for a in args], env=env, stdin=subprocess.DEVNULL, stdout=stdout,
            stderr=stderr, start_new_session=True, close_fds=True)
    finally:
        stdout.close()
        if stderr is not stdout:
            stderr.close()
    pid = process.pid
    if pid_file:
        # A wrapper script may write the PID of the application it starts.
        deadline = time.monotonic() + PID_FILE_WAIT
        while time.monotonic() < deadline:
            try:
                with open(pid_file) as handle:
                    text = handle.read().strip()
            except OSError:
                text = ""
            if text.isdigit():
                pid = int(text)
                break
            time.sleep(0.05)
    return pid


def main(argv: list[str] | None = None) -> int:
    """Read the JSON named last on the command line, start its process, write its PID back."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or not args[-1].lower().endswith(".json"):
        print("app_launcher: error: expects the path of a JSON file with the launch arguments "
              "(it is a helper of the AYON launcher; run `ayon` instead)", file=sys.stderr)
        return 2
    path = args[-1]
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict) or not data.get("args"):
            raise ValueError("no 'args' in it")
    except (OSError, ValueError) as exc:
        print(f"app_launcher: error: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    try:
        data["pid"] = launch(data)
    except OSError as exc:
        print(f"app_launcher: error: cannot start {data['args']!r}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
