"""The tray's "Show log" shows this run's whole part of the support log.

The tray's "Show log": this run's whole part of the support log file (lines logged before
the tray existed, library warnings, the install lines), followed as the file grows; not the
lines of earlier runs or of other processes sharing the file. Offscreen, real local server.
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.gui.log_window import RunLogReader  # noqa: E402
from ayon_launcher.gui.worker import wait_for  # noqa: E402
from ayon_launcher.support import log as launcher_log
from test_tray import (  # noqa: E402, F401 - fixtures used by name
    _cleanup_qt,
    launcher_dirs,
    make_tray,
    qapp,
    save_grab,
    wait_ready,
)

STAMP = "2026-01-31 12:00:00,000"


def test_show_log_shows_the_whole_run_from_the_file_and_follows_it(  # noqa: F811 - fixtures
        qapp, local_server, launcher_dirs, artifacts_dir, monkeypatch):  # noqa: F811
    monkeypatch.setenv("AYON_SERVER_URL", local_server.url)
    monkeypatch.setenv("AYON_API_KEY", local_server.service_api_key)
    path = launcher_dirs / "local" / "logs" / "ayon.log"
    path.parent.mkdir(parents=True)
    path.write_text(f"{STAMP} 1 INFO ayon_launcher: a line of an earlier run\n")
    other_pid = os.getpid() + 1
    loggers = [logging.getLogger(name) for name in (launcher_log.LOGGER_NAME,
                                                     *launcher_log.LIBRARY_LOGGERS)]
    saved = [(lg, list(lg.handlers), lg.propagate, lg.level) for lg in loggers]
    launcher_log.close_log_file()  # one an earlier in-process test opened
    launcher_log.setup_logging(logging.INFO)  # as `ayon tray` does: the run's log file opens
    try:
        assert launcher_log.log_file() == str(path)
        # Before the tray (and its in-memory buffer) exists, and from a library.
        logging.getLogger("ayon_launcher.cli").warning("a warning before the tray started")
        logging.getLogger("ayon_api").warning("a library warning")
        tray, _ = make_tray(LauncherContext())
        tray.start()
        wait_ready(tray)
        assert "a warning before the tray started" not in tray.log_buffer.text()

        window = tray.show_log()
        text = window.view.toPlainText()
        assert "WARNING ayon_launcher.cli: a warning before the tray started" in text
        assert "WARNING ayon_api: a library warning" in text
        assert "DEBUG ayon_launcher.distribution: installed addon demo_tools" in text
        assert "tray ready" in text
        assert "an earlier run" not in text
        assert local_server.service_api_key not in text
        assert window.file_label.text() == f"Log file: {path}"

        # The window follows the file: this run's new lines, not another process's.
        with path.open("a") as handle:
            handle.write(f"{STAMP} {other_pid} INFO ayon_launcher: another launcher's line\n"
                         f"Traceback of the other launcher\n")
        logging.getLogger("ayon_launcher.tray").warning("a warning after the window opened")
        assert wait_for(lambda: "a warning after the window opened"
                        in window.view.toPlainText(), 10000)
        assert "another launcher" not in window.view.toPlainText()
        save_grab(window, artifacts_dir / "tray_log_window.png")
    finally:
        launcher_log.close_log_file()
        for lg, handlers, propagate, level in saved:  # this process's other tests log as before
            lg.handlers[:] = handlers
            lg.propagate, lg.level = propagate, level


def test_the_reader_follows_a_rotation_and_keeps_multi_line_records(tmp_path):
    path = tmp_path / "ayon.log"
    path.write_text(f"{STAMP} 7 INFO x: before the run\n")
    start = path.stat()
    reader = RunLogReader(str(path), start.st_ino, start.st_size, pid=7)
    with path.open("a") as handle:
        handle.write(f"{STAMP} 7 ERROR x: failed\nTraceback (most recent call last):\n"
                     f"{STAMP} 8 INFO x: other process\nits traceback\n{STAMP} 7 INFO x: half")
    assert reader.read_new() == f"{STAMP} 7 ERROR x: failed\nTraceback (most recent call last):"
    path.rename(tmp_path / "ayon.log.1")  # rotated, as RotatingFileHandler does
    with (tmp_path / "ayon.log.1").open("a") as handle:
        handle.write(" a line\n")
    path.write_text(f"{STAMP} 7 INFO x: in the new file\n")
    assert reader.read_new() == (f"{STAMP} 7 INFO x: half a line\n"
                                 f"{STAMP} 7 INFO x: in the new file")
    assert reader.read_new() == ""


def test_the_reader_stays_with_the_file_this_process_writes_to(tmp_path):
    """Another launcher rotated the shared log: this process still writes to the renamed
    file (its handler holds it open), and so the reader reads on there."""
    path = tmp_path / "ayon.log"
    path.write_text("")
    ours = path.stat().st_ino
    reader = RunLogReader(str(path), ours, 0, pid=7, stream_inode=lambda: ours)
    path.rename(tmp_path / "ayon.log.1")
    path.write_text(f"{STAMP} 7 INFO x: not written by us after all\n")
    with (tmp_path / "ayon.log.1").open("a") as handle:
        handle.write(f"{STAMP} 7 INFO x: still ours\n")
    assert reader.read_new() == f"{STAMP} 7 INFO x: still ours"
