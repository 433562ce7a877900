"""Compiled scripts (script_runner.compiled): a script run again starts from the code the
launcher compiled the first time, only while its source is the very same; tracebacks, errors
and PYTHONDONTWRITEBYTECODE behave as with python. Real ``ayon --skip-bootstrap`` runs."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import isolated_env, run_ayon

SCRIPT = "import sys\nprint('version', {n})\nif len(sys.argv) > 1:\n    raise ValueError('n={n}')\n"


def script_env(tmp_path: Path) -> dict[str, str]:
    """The launcher's environment, whatever the calling shell says of bytecode files."""
    env = isolated_env(tmp_path)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def cache_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "local" / "state" / "compiled_scripts"
    return sorted(folder.glob("*.pyc")) if folder.is_dir() else []


def run(env: dict[str, str], script: Path, *args: str):
    done = run_ayon(["--skip-bootstrap", str(script), *args], env)
    assert "ayon_launcher" not in done.stderr, done.stderr
    return done


def test_a_script_runs_from_its_cached_code_only_while_its_source_is_the_same(tmp_path):
    env = script_env(tmp_path)
    script = tmp_path / "job.py"
    script.write_text(SCRIPT.format(n=1))
    first = run(env, script)
    assert first.returncode == 0 and first.stdout == "version 1\n", first.stderr
    (cached,) = cache_files(tmp_path)
    assert cached.stat().st_mode & 0o777 == 0o600  # the user's own, as the state folder
    written = cached.stat().st_mtime_ns
    again = run(env, script)
    assert again.stdout == "version 1\n"
    assert cached.stat().st_mtime_ns == written  # read, not written again

    # Same size, same modification time, another text: the source hash tells them apart.
    stamp = script.stat()
    script.write_text(SCRIPT.format(n=2))
    os.utime(script, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    changed = run(env, script)
    assert changed.stdout == "version 2\n"
    assert cache_files(tmp_path) == [cached]  # one file per script path, replaced

    # A cached run's traceback shows the script's own file and line, as python's.
    failed = run(env, script, "fail")
    assert failed.returncode == 1
    assert f'File "{script}", line 4, in <module>' in failed.stderr
    assert "raise ValueError('n=2')" in failed.stderr and "ValueError: n=2" in failed.stderr


def test_a_damaged_or_foreign_cache_file_is_compiled_again(tmp_path):
    env = script_env(tmp_path)
    script = tmp_path / "job.py"
    script.write_text(SCRIPT.format(n=3))
    assert run(env, script).returncode == 0
    (cached,) = cache_files(tmp_path)
    good = cached.read_bytes()
    for damage in (b"", good[:20], good[:-7], b"\0" * len(good)):
        cached.write_bytes(damage)
        done = run(env, script)
        assert done.returncode == 0 and done.stdout == "version 3\n", done.stderr
        assert cached.read_bytes() == good  # replaced by a sound one
    # The code of another script with the same source: its own file name, so not used.
    twin = tmp_path / "twin.py"
    twin.write_text(SCRIPT.format(n=3))
    failed = run(env, twin, "fail")
    assert f'File "{twin}", line 4' in failed.stderr
    assert len(cache_files(tmp_path)) == 2


def test_no_cache_is_written_with_pythondontwritebytecode_and_syntax_errors_stay(tmp_path):
    env = {**script_env(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    script = tmp_path / "job.py"
    script.write_text(SCRIPT.format(n=4))
    assert run(env, script).stdout == "version 4\n"
    assert cache_files(tmp_path) == []
    env.pop("PYTHONDONTWRITEBYTECODE")
    broken = tmp_path / "broken.py"
    broken.write_text("def broken(:\n")
    for _ in range(2):
        done = run(env, broken)
        assert done.returncode == 1 and "SyntaxError" in done.stderr
    assert cache_files(tmp_path) == []


def test_the_cache_keeps_a_bounded_number_of_scripts(tmp_path):
    from ayon_launcher.bootstrapper.cli.script_runner import SCRIPT_CACHE_LIMIT

    env = script_env(tmp_path)
    folder = tmp_path / "local" / "state" / "compiled_scripts"
    folder.mkdir(parents=True)
    for index in range(SCRIPT_CACHE_LIMIT + 5):  # as left by earlier jobs' scripts
        old = folder / f"{index:016x}.pyc"
        old.write_bytes(b"old")
        os.utime(old, (1_000_000 + index, 1_000_000 + index))
    script = tmp_path / "job.py"
    script.write_text(SCRIPT.format(n=5))
    assert run(env, script).stdout == "version 5\n"
    left = cache_files(tmp_path)
    assert len(left) == SCRIPT_CACHE_LIMIT
    assert not (folder / f"{0:016x}.pyc").exists()  # the oldest went
    assert any(f.read_bytes() != b"old" for f in left)  # the new one stayed
