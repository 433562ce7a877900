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
        code = compiled(source, os.path.abspath(file))
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


# -- compiled scripts ----------------------------------------------------------------------
# A farm node runs the same script thousands of times. Python caches the bytecode of the
# modules it imports, not of the script it runs; and the first compile() of a process sets up
# the interpreter's AST classes (about 1 ms, more than compiling a small script), which
# `python script.py` does not pay. So the launcher keeps the compiled code of the scripts it
# runs in its local folder, checked against the script's whole source (a hash, as Python's
# hash-based .pyc files are: a script changed in the same second and to the same size is
# not mistaken for the old one).

_IMPORTLIB = sys.modules["_frozen_importlib_external"]  # importlib's own: always loaded
_MAGIC = _IMPORTLIB.MAGIC_NUMBER  # the interpreter's bytecode version
_RAW_MAGIC = _IMPORTLIB._RAW_MAGIC_NUMBER  # the key of its source hashes
SCRIPT_CACHE_DIR = "compiled_scripts"  # in the launcher's state folder
SCRIPT_CACHE_LIMIT = 256  # files kept; beyond it the least recently written go
_CACHE_FORMAT = b"AYLS1"


def _script_cache_file(filename: str) -> str:
    import _imp

    from ayon_launcher.support.paths import state_folder

    # One file per script path (the path's hash names it; the path is checked on reading).
    name = _imp.source_hash(_RAW_MAGIC, filename.encode("utf-8", "surrogateescape")).hex()
    return os.path.join(state_folder(), SCRIPT_CACHE_DIR, name + ".pyc")


def _header(source: bytes) -> bytes:
    import _imp

    # The interpreter's bytecode version and optimisation level, and the source's hash.
    return (_CACHE_FORMAT + _MAGIC + bytes([sys.flags.optimize & 0xFF])
            + _imp.source_hash(_RAW_MAGIC, source))


def compiled(source: bytes, filename: str) -> object:
    """The code object of the script ``filename`` whose text is ``source``: from the cache
    when it holds this very source, else compiled (and cached, unless
    PYTHONDONTWRITEBYTECODE asks for no bytecode files). SyntaxError as compile() raises it."""
    import marshal

    cache = _script_cache_file(filename)
    header = _header(source)
    try:
        with open(cache, "rb") as handle:
            data = handle.read()
        if data.startswith(header):
            code = marshal.loads(memoryview(data)[len(header):])
            if getattr(code, "co_filename", None) == filename:
                return code
    except (OSError, ValueError, EOFError, TypeError):
        pass  # no cache yet, or a damaged one: compiled again below
    code = compile(source, filename, "exec", dont_inherit=True)
    if not sys.dont_write_bytecode:
        _store(cache, header + marshal.dumps(code))
    return code


def _store(cache: str, data: bytes) -> None:
    """Write a cache file whole (a temporary file renamed over it); never an error: a cache
    that cannot be written only costs the next run a compile."""
    folder = os.path.dirname(cache)
    temporary = f"{cache}.{os.getpid()}.tmp"
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(temporary, cache)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return
    _prune(folder)


def _prune(folder: str) -> None:
    """Keep the cache at SCRIPT_CACHE_LIMIT files (a farm may run a new script per job)."""
    try:
        entries = [entry for entry in os.scandir(folder) if entry.name.endswith(".pyc")]
        if len(entries) <= SCRIPT_CACHE_LIMIT:
            return
        entries.sort(key=lambda entry: entry.stat().st_mtime)
        for entry in entries[:len(entries) - SCRIPT_CACHE_LIMIT]:
            os.unlink(entry.path)
    except OSError:
        pass  # another launcher pruned them first


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
