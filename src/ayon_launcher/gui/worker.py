"""Run blocking work (network, disk) off the UI thread; results come back as queued signals."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from qtpy import QtCore


class WorkerSignals(QtCore.QObject):
    """Lives in the UI thread, so every slot connected to it runs there."""

    done = QtCore.Signal(object)
    # The exception and its formatted traceback (shown under "details", never a crash).
    failed = QtCore.Signal(object, str)
    progress = QtCore.Signal(object)
    # After done/failed: the signals object may go.
    finished = QtCore.Signal()


# Signals of running workers: a pool thread's runnable may be gone before its queued results
# are delivered, so the signals object is kept alive here until then.
_RUNNING: set[WorkerSignals] = set()


class Worker(QtCore.QRunnable):
    """``call(report)`` in a pool thread; ``report(x)`` emits ``signals.progress`` with x."""

    def __init__(self, call: Callable[[Callable[[Any], None]], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.call = call
        self.signals = WorkerSignals()

    def run(self) -> None:
        try:
            result = self.call(self.signals.progress.emit)
        except BaseException as exc:  # noqa: BLE001 - reported to the UI, never a crash
            self.signals.failed.emit(exc, traceback.format_exc())
        else:
            self.signals.done.emit(result)
        self.signals.finished.emit()


def run_in_background(
    call: Callable[[Callable[[Any], None]], Any],
    on_done: Callable[[Any], None],
    on_failed: Callable[[BaseException, str], None],
    on_progress: Callable[[Any], None] | None = None,
    pool: QtCore.QThreadPool | None = None,
) -> Worker:
    """Start ``call`` in ``pool`` (the global one by default); handlers run in the UI thread."""
    worker = Worker(call)
    signals = worker.signals
    _RUNNING.add(signals)
    signals.done.connect(on_done)
    signals.failed.connect(on_failed)
    if on_progress is not None:
        signals.progress.connect(on_progress)
    signals.finished.connect(lambda: _RUNNING.discard(signals))
    (pool or QtCore.QThreadPool.globalInstance()).start(worker)
    return worker


def wait_for(predicate: Callable[[], bool], timeout_ms: int = 30000) -> bool:
    """Process events until ``predicate()`` is true (tests and shutdown); False on time-out."""
    from qtpy import QtWidgets

    timer = QtCore.QElapsedTimer()
    timer.start()
    app = QtWidgets.QApplication.instance()
    while not predicate():
        if timer.elapsed() > timeout_ms:
            return False
        if app is not None:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        QtCore.QThread.msleep(5)
    return True
