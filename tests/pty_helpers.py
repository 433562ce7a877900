"""Run the real ``ayon`` CLI on a pseudo-terminal and answer its prompts, like a person."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from dataclasses import dataclass


@dataclass
class PtyRun:
    returncode: int
    output: str  # everything the process wrote to its terminal (stdout and stderr)
    unanswered: list[str]  # prompts that never came


def run_ayon_pty(args: list[str], env: dict[str, str], answers: list[tuple[str, str]],
                 timeout: float = 90) -> PtyRun:
    """Run ``python -m ayon_launcher ARGS`` with a terminal; answer each prompt in order.

    ``answers`` pairs a text the prompt contains with the line to type.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, stdin, stdout and stderr
        try:
            os.execve(sys.executable, [sys.executable, "-m", "ayon_launcher", *args], env)
        finally:
            os._exit(127)
    output = b""
    searched_from = 0
    pending = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                raise TimeoutError(f"ayon {args} did not finish; output so far:\n"
                                   + output.decode(errors="replace"))
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal (it exited)
                break
            if not data:
                break
            output += data
            if pending and pending[0][0].encode() in output[searched_from:]:
                searched_from = len(output)
                os.write(fd, pending.pop(0)[1].encode() + b"\r")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return PtyRun(os.waitstatus_to_exitcode(status), output.decode(errors="replace"),
                  [prompt for prompt, _ in pending])
