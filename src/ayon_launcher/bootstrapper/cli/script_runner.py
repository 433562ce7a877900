"""Running a Python script inside the AYON environment (no click: the farm's fast path)."""

import gc
import os
import sys

from ayon_launcher.support.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ayon_launcher.bootstrapper.context import LauncherContext


def run_script(launcher: "LauncherContext", path: str, args: list[str]) -> int:
    """Run ``path`` (a file, or a folder with ``__main__.py``) as ``__main__`` in the AYON
    environment; its exit code."""
    file = path
    if os.path.isdir(path):
        file = os.path.join(path, "__main__.py")
        if not os.path.isfile(file):
            raise UsageError(f"no __main__.py in folder {path}: nothing to run")
    # Read and compiled before any bootstrap: a bad script fails at once, as with python.
    try:
        with open(file, "rb") as handle:
            source = handle.read()
    except FileNotFoundError:
        raise UsageError(f"script not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read script {path}: {exc.strerror or exc}") from None
    try:
        code = compile(source, os.path.abspath(file), "exec")
    except (SyntaxError, ValueError) as exc:
        import traceback

        # Only the script's error, as python shows it (no launcher frames).
        print("".join(traceback.format_exception_only(exc)), end="", file=sys.stderr)
        return 1
    if launcher.skip_bootstrap:
        # Nothing to sync or load: only the runtime variables (no bootstrap imports at all).
        from ayon_launcher.bootstrapper.runtime import apply_environment, child_environment

        apply_environment(child_environment(launcher))
    else:
        from ayon_launcher.bootstrapper.cli.common import prepare

        # No cyclic garbage collection while the launcher starts: its imports and the
        # bootstrap make objects that live until exit (scanned 70 times for nothing by
        # the collector: 20-30 ms of a cold start), and leave under a thousand cyclic
        # objects behind. Frozen (see _execute) before the collector is back, else its
        # first pass scans all of them. The script runs with the collector as python
        # gives it.
        collecting = gc.isenabled()
        gc.disable()
        try:
            prepare(launcher)
        finally:
            gc.freeze()
            if collecting:
                gc.enable()
    return _execute(code, file, args, argv0=path)


def _execute(code: object, path: str, args: list[str], argv0: str | None = None) -> int:
    """Run compiled ``code`` (of file ``path``) as the ``__main__`` module with ``sys.argv``
    set for it (``argv0``: what was typed, the folder of a ``__main__.py``)."""
    module = type(sys)("__main__")  # a module object, without importing types
    module.__file__ = os.path.abspath(path)  # absolute, as python gives __main__
    module.__builtins__ = __builtins__  # type: ignore[attr-defined]
    previous_main = sys.modules.get("__main__")
    sys.modules["__main__"] = module  # pickling and `if __name__ == "__main__"` work
    sys.argv = [argv0 or path, *args]  # as typed, like python's sys.argv[0]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    # What the launcher made so far lives until exit: out of the collector's way (the
    # script's collections do not scan it, and the interpreter's exit does not tear it down
    # object by object: about 35 ms after a cold sync). The script's own objects are
    # collected and finalized as with python.
    gc.freeze()
    try:
        exec(code, module.__dict__)  # noqa: S102 - running the user's script is the command
    except SystemExit as exc:
        return exit_code_of(exc.code)
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:  # noqa: BLE001 - the script's own error: show it as Python would
        import traceback

        # Without this runner's own frame: the traceback starts in the script, as python's.
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        traceback.print_exception(type(exc), exc, tb)
        return 1
    finally:
        if previous_main is not None:
            sys.modules["__main__"] = previous_main
    return 0


def exit_code_of(code: object) -> int:
    """The exit code of ``SystemExit(code)``, as python gives it (a message: printed, 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints the message, exits 1
    return 1
