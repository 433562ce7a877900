"""Run blocking work (network, disk) off the UI thread; results come back as queued signals."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from qtpy import QtCore, QtWidgets


class WorkerSignals(QtCore.QObject):
    """Lives in the UI thread, so every slot connected to it runs there.

    Its parent is the application: Python's reference counting (or garbage collector, which
    may run in any thread) never deletes it; it deletes itself in the UI thread once the
    results are delivered.
    """

    done = QtCore.Signal(object)
    # The exception and its formatted traceback (shown under "details", never a crash).
    failed = QtCore.Signal(object, str)
    progress = QtCore.Signal(object)
    # After done/failed: the signals object may go.
    finished = QtCore.Signal()


# The callables of running workers, held by the UI thread. A closure often holds widgets (a
# bound method of a window, say): its last reference must go in the UI thread, never in a
# pool thread, where the binding would destroy Qt objects at the wrong place and time.
_CALLS: dict[int, Callable[..., Any]] = {}


class Worker(QtCore.QRunnable):
    """``call(report)`` in a pool thread; ``report(x)`` emits ``signals.progress`` with x."""

    def __init__(self, call: Callable[[Callable[[Any], None]], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.call: Callable[[Callable[[Any], None]], Any] | None = call
        self.signals = WorkerSignals(QtCore.QCoreApplication.instance())

    def run(self) -> None:
        call, self.call = self.call, None
        signals = self.signals
        assert call is not None
        try:
            result = call(signals.progress.emit)
        except BaseException as exc:  # noqa: BLE001 - reported to the UI, never a crash
            details = traceback.format_exc()
            exc.__traceback__ = None  # its frames hold the closure's variables
            del call
            signals.failed.emit(exc, details)
        else:
            del call
            signals.done.emit(result)
        signals.finished.emit()


def run_in_background(
    call: Callable[[Callable[[Any], None]], Any],
    on_done: Callable[[Any], None],
    on_failed: Callable[[BaseException, str], None],
    on_progress: Callable[[Any], None] | None = None,
    pool: QtCore.QThreadPool | None = None,
    on_finished: Callable[[], None] | None = None,
) -> Worker:
    """Start ``call`` in ``pool`` (the global one by default); handlers run in the UI thread.

    ``on_finished`` runs after ``on_done``/``on_failed``, once the worker holds nothing more
    (connected here, before the start: a signal connected later could already be gone).
    """
    worker = Worker(call)
    signals = worker.signals
    key = id(signals)
    _CALLS[key] = call
    signals.done.connect(on_done)
    signals.failed.connect(on_failed)
    if on_progress is not None:
        signals.progress.connect(on_progress)
    signals.finished.connect(lambda: _CALLS.pop(key, None))
    if on_finished is not None:
        signals.finished.connect(on_finished)
    signals.finished.connect(signals.deleteLater)
    (pool or QtCore.QThreadPool.globalInstance()).start(worker)
    return worker


def application() -> QtWidgets.QApplication:
    """The running QApplication, or a new one named "ayon" with the AYON look when there is
    none yet (a host's application keeps its own look; the launcher's windows bring theirs)."""
    app = QtWidgets.QApplication.instance()
    if isinstance(app, QtWidgets.QApplication):
        return app
    from ayon_launcher.gui.style import apply_to_application

    app = QtWidgets.QApplication(["ayon"])
    apply_to_application(app)
    return app


def destroy_now(*objects: QtCore.QObject | None) -> None:
    """Delete ``objects`` (None and already deleted ones skipped) now, in the UI thread, then
    handle the events their deletion posted.

    Never left to reference counting or the garbage collector, which may run in another
    thread: a widget must be destroyed in the UI thread, at a known point.
    """
    import shiboken6

    for obj in objects:
        if obj is not None and shiboken6.isValid(obj):
            shiboken6.delete(obj)
    app = QtCore.QCoreApplication.instance()
    if app is not None:
        app.processEvents()


def wait_for(predicate: Callable[[], bool], timeout_ms: int = 30000) -> bool:
    """Process events until ``predicate()`` is true (tests and shutdown); False on time-out."""
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
