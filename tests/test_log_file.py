"""The support log file: every launcher run appends to ``{local}/logs/ayon.log``."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import isolated_env, run_ayon
from failure_helpers import error_message

PROJECT = "demo_Commercial"
MB = 1024 * 1024


@pytest.fixture
def env(tmp_path, local_server):
    environment = isolated_env(tmp_path, local_server.url)
    environment["AYON_API_KEY"] = local_server.service_api_key
    return environment


def _log(tmp_path):
    return tmp_path / "local" / "logs" / "ayon.log"


def _lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_a_real_run_is_logged_in_detail_without_secrets(tmp_path, env, local_server):
    out = tmp_path / "env.json"
    done = run_ayon(["extractenvironments", str(out), "--project", PROJECT,
                     "--app", "maya/2024"], env)
    assert done.returncode == 0, done.stderr
    text = _log(tmp_path).read_text()
    assert "INFO ayon_launcher.cli: installed " in text  # the add-on installs of this start
    assert "WARNING ayon_launcher.extractenvironments: context is incomplete" in text
    assert " DEBUG " in text and "DEBUG" not in done.stderr  # more detail than the screen
    assert local_server.service_api_key not in text
    # A second run appends to the same file.
    failed = run_ayon(["extractenvironments", str(out), "--project", "nope"], env)
    assert failed.returncode == 2
    line, = _lines(failed.stderr)[-1:]
    assert error_message(line, _log(tmp_path)).startswith("ayon: error: unknown project 'nope'")
    text = _log(tmp_path).read_text()
    assert text.count(" start: ") == 2
    assert "ERROR ayon_launcher: ayon: error: unknown project 'nope'" in text
    assert "Traceback" in text and "Traceback" not in failed.stderr
    assert local_server.service_api_key not in text


def test_a_secret_in_an_error_never_reaches_the_log(tmp_path):
    environment = isolated_env(tmp_path, "http://127.0.0.1:1")
    key = "k3y-that-must-stay-hidden-42"
    environment["AYON_API_KEY"] = key
    done = run_ayon(["--headless", "extractenvironments", str(tmp_path / "e.json")],
                    environment)
    assert done.returncode == 3
    assert _lines(done.stderr)[-1].startswith("ayon: error: ")
    text = _log(tmp_path).read_text()
    assert "cannot be reached" in text
    assert key not in text and key not in done.stderr


def test_a_logged_api_key_is_redacted_in_the_file_as_on_screen(tmp_path, env, local_server):
    key = local_server.service_api_key
    script = tmp_path / "leaky.py"
    script.write_text(
        "import logging, os\n"
        "log = logging.getLogger('ayon_launcher.studio')\n"
        "log.warning('key is %s', os.environ['AYON_API_KEY'])\n"
        "log.debug('debug key ' + os.environ['AYON_API_KEY'])\n"
        "raise SystemExit(0)\n")
    done = run_ayon([str(script)], env)
    assert done.returncode == 0, done.stderr
    assert "WARNING: key is ***" in done.stderr and key not in done.stderr
    text = _log(tmp_path).read_text()
    assert "key is ***" in text and "debug key ***" in text
    assert key not in text


def test_an_unexpected_error_says_where_the_log_is(tmp_path):
    # The launcher's own last line of defence, in a real process with its logging set up.
    code = ("import sys\n"
            "from ayon_launcher.bootstrapper.cli.entry import report_error, start_launcher\n"
            "start_launcher()\n"
            "sys.exit(report_error(ZeroDivisionError('boom'), False))\n")
    done = subprocess.run([sys.executable, "-c", code], env=isolated_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert _lines(done.stderr) == [
        "ayon: unexpected error: ZeroDivisionError: boom (run with --debug for details) "
        f"(log: {_log(tmp_path)})"]
    assert "ayon: unexpected error: ZeroDivisionError: boom" in _log(tmp_path).read_text()


@pytest.mark.parametrize("args,expected", [
    # click refuses the option before any logging started: the log file opens for the error
    (["--no-such-flag"], "ayon: error: No such option '--no-such-flag'"),
    # a lean script run (no log kept) that fails still says where its error is logged
    (["--skip-bootstrap", "missing.py"], "ayon: error: script not found: "),
])
def test_every_error_line_ends_with_where_the_log_is(tmp_path, args, expected):
    done = run_ayon(args, isolated_env(tmp_path))
    assert done.returncode == 2
    line, = _lines(done.stderr)
    assert error_message(line, _log(tmp_path)).startswith(expected)
    assert f"ERROR ayon_launcher: {expected}" in _log(tmp_path).read_text()


def test_rotation_caps_the_size(tmp_path):
    folder = _log(tmp_path).parent
    folder.mkdir(parents=True)
    _log(tmp_path).write_bytes(b"old line\n" * (5 * MB // 9))
    for index in (1, 2, 3):
        (folder / f"ayon.log.{index}").write_bytes(b"x" * 100)
    done = run_ayon(["--skip-bootstrap", "extractenvironments", str(tmp_path / "e.json")],
                    isolated_env(tmp_path))
    assert done.returncode == 0, done.stderr
    names = sorted(path.name for path in folder.iterdir())
    assert names == ["ayon.log", "ayon.log.1", "ayon.log.2", "ayon.log.3"]
    assert (folder / "ayon.log.1").stat().st_size > 4 * MB  # the full file moved aside
    assert (folder / "ayon.log.3").stat().st_size == 100
    assert _log(tmp_path).stat().st_size < MB
    assert "environment written" in _log(tmp_path).read_text()


def test_an_unwritable_log_folder_never_stops_the_launcher(tmp_path):
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "logs").write_text("a file where the folder should be")
    out = tmp_path / "e.json"
    done = run_ayon(["--skip-bootstrap", "extractenvironments", str(out)],
                    isolated_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert out.exists()
    assert "Traceback" not in done.stderr
    assert not [line for line in _lines(done.stderr) if "log" in line.lower()
                and "environment written" not in line]
    debug = run_ayon(["--skip-bootstrap", "--debug", "extractenvironments", str(out)],
                     isolated_env(tmp_path))
    assert debug.returncode == 0, debug.stderr
    assert "no log file" in debug.stderr and "Traceback" not in debug.stderr
    bad = run_ayon(["--skip-bootstrap", "extractenvironments", str(out), "--project", "p",
                    "--asset", "a", "--task", "t", "--app", "maya/2024"], isolated_env(tmp_path))
    assert bad.returncode == 2
    assert "(log:" not in bad.stderr and "Traceback" not in bad.stderr


def test_a_script_without_bootstrap_keeps_no_log(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("import sys\nprint('logging.handlers' in sys.modules)\n")
    done = run_ayon(["--skip-bootstrap", str(script)], isolated_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert not (tmp_path / "local" / "logs").exists()


# A warm script start keeps its log without importing logging (support/log.py's light start);
# its file and its screen must be those of the same start with logging imported from the
# outset: a sitecustomize on PYTHONPATH imports it before the launcher runs (same command).
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ (DEBUG|INFO|WARNING|ERROR) ")
NOISE = re.compile(r"0x[0-9a-f]+|line \d+")  # object addresses; a traceback's line numbers
QUIET = "import sys\nprint('logging' in sys.modules)\n"
LIGHT_LOGGER = """\
import os, sys
from ayon_launcher.support.log import get_logger, register_secret
register_secret("studio-s3cret-value")
log = get_logger("studio")
log.debug("key %s and studio-s3cret-value", os.environ["AYON_API_KEY"])
print('logging' in sys.modules)
log.warning("careful with %s and studio-s3cret-value", "this")
print('logging' in sys.modules)
try:
    1 / 0
except ZeroDivisionError:
    log.exception("failed")
import logging
logging.getLogger("ayon_launcher.studio").debug("again studio-s3cret-value")
"""
LIBRARY = """\
import logging, sys
import ayon_api, urllib3
print('ayon_api' in sys.modules)
logging.getLogger("ayon_launcher.studio").info("the script logs")
try:  # urllib3 warns of each retry, naming the URL: its query is a secret
    urllib3.PoolManager(retries=urllib3.Retry(1)).request("GET", "http://127.0.0.1:1/?t=abc")
except urllib3.exceptions.MaxRetryError:
    pass
"""


def _warm_run(tmp_path, env, source: str, eager: bool) -> tuple[subprocess.CompletedProcess,
                                                                  list[str]]:
    """A warm ``ayon --headless script.py``: the run and its lines of the log file."""
    script = tmp_path / "script.py"
    script.write_text(source)
    environment = dict(env)
    if eager:
        site = tmp_path / "eager"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text("import logging\n")
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(site), *filter(None, [env.get("PYTHONPATH")])])
    log = _log(tmp_path)
    before = log.stat().st_size if log.exists() else 0
    done = run_ayon(["--headless", str(script)], environment)
    assert done.returncode == 0, done.stderr
    with open(log, "rb") as handle:
        handle.seek(before)
        lines = handle.read().decode().splitlines()
    assert "up to date (warm start)" in "\n".join(lines), lines  # a warm start indeed
    return done, lines


def _shapes(lines: list[str]) -> list[str]:
    """``lines`` with their times and process ids masked (each record line checked)."""
    assert STAMP.match(lines[0]), lines[0]
    return [NOISE.sub("*", STAMP.sub(r"TIME PID \1 ", line)) for line in lines]


@pytest.fixture
def warm_env(tmp_path, env):
    (tmp_path / "first.py").write_text("")
    done = run_ayon(["--headless", str(tmp_path / "first.py")], env)  # the cold start
    assert done.returncode == 0, done.stderr
    return env


@pytest.mark.parametrize("source", [QUIET, LIGHT_LOGGER, LIBRARY],
                         ids=["quiet", "light-logger", "library"])
def test_a_warm_script_start_logs_as_with_logging_imported_eagerly(tmp_path, warm_env,
                                                                   local_server, source):
    light, light_lines = _warm_run(tmp_path, warm_env, source, eager=False)
    eager, eager_lines = _warm_run(tmp_path, warm_env, source, eager=True)
    assert _shapes(light_lines) == _shapes(eager_lines)
    assert NOISE.sub("*", light.stderr) == NOISE.sub("*", eager.stderr)
    assert " DEBUG ayon_launcher: start: " in light_lines[0]
    assert light_lines[0].endswith(f" --headless {tmp_path / 'script.py'}")
    text = "\n".join(light_lines)
    assert local_server.service_api_key not in text + light.stderr
    if source == QUIET:
        # Nothing on the screen: logging was never imported (the eager run had it).
        assert (light.stdout.strip(), eager.stdout.strip()) == ("False", "True")
        assert light.stderr == ""
    elif source == LIGHT_LOGGER:
        # Neither the debug line nor the warning needed logging (the warning reached the
        # screen as the screen handler prints it); the traceback of log.exception did.
        assert light.stdout.split() == ["False", "False"]
        assert "DEBUG ayon_launcher.studio: key *** and ***" in text
        assert "DEBUG ayon_launcher.studio: again ***" in text
        assert "studio-s3cret-value" not in text + light.stderr
        assert _lines(light.stderr)[:2] == ["WARNING: careful with this and ***",
                                            "ERROR: failed"]
        assert "WARNING ayon_launcher.studio: careful with this and ***" in text
        assert "ZeroDivisionError" in text and "Traceback" in light.stderr
    else:
        assert "INFO ayon_launcher.studio: the script logs" in text
        retry, = [line for line in light_lines if "Retrying" in line]
        assert " WARNING urllib3.connectionpool: Retrying " in retry
        assert retry.endswith(": /?***") and "abc" not in text + light.stderr
        assert _lines(light.stderr)[0].startswith("INFO: the script logs")


def test_a_light_start_rotates_the_log_as_the_handler_does(tmp_path, warm_env):
    log = _log(tmp_path)
    for index in (1, 2, 3):
        (log.parent / f"ayon.log.{index}").write_bytes(b"x" * index)
    log.write_bytes(b"old line\n" * (5 * MB // 9 - 1))
    full = log.stat().st_size
    script = tmp_path / "script.py"
    script.write_text(QUIET)
    done = run_ayon(["--headless", str(script)], warm_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"  # a light start
    assert (log.parent / "ayon.log.1").stat().st_size == full  # moved aside whole
    assert [(log.parent / f"ayon.log.{i}").stat().st_size for i in (2, 3)] == [1, 2]
    first, warm = log.read_text().splitlines()
    assert " DEBUG ayon_launcher: start: " in first and warm.endswith("(warm start)")
