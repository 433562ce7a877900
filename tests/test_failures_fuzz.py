"""Failure suite, fuzzing: hypothesis-generated CLI arguments and JSON inputs.

Property: whatever the input, the launcher ends with an exit code and, when it fails, exactly one
error line (the last one) and never a traceback or an "unexpected error"; the API key of the
environment never shows. The real entry point (``ayon_launcher.bootstrapper.cli.entry.main``) runs
in-process for speed, with the process state (environment, sys.path, argv, cwd, logging) restored
after every example, against a server that is down (so a bootstrap fails fast), and a few examples
of JSON inputs run against the real local server.
"""

from __future__ import annotations

import io
import json
import logging
import os
import string
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import ayon_api
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ayon_launcher.bootstrapper.cli import entry
from ayon_launcher.pipeline.environment.definitions import compute_environment
from ayon_launcher.support.errors import LauncherError
from conftest import dead_url

FUZZ_KEY = "fuzz-api-key-5e3c1d9a7b"  # distinctive: it must never appear in any output
# Derandomized and without an example database: the same examples on every run and machine.
SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                    database=None)
ERROR_PREFIXES = ("ayon: error: ", "Error: ")


@contextmanager
def launcher_process(home: Path, server_url: str, api_key: str = FUZZ_KEY) -> Iterator[None]:
    """This process as a fresh launcher process would be, restored afterwards."""
    environ, path, argv, cwd = dict(os.environ), list(sys.path), list(sys.argv), os.getcwd()
    launcher_logger = logging.getLogger("ayon_launcher")
    handlers, level = list(launcher_logger.handlers), launcher_logger.level
    modules = set(sys.modules)
    for key in [k for k in os.environ if k.startswith(("AYON_", "OPENPYPE_", "USE_AYON"))]:
        del os.environ[key]
    os.environ.update(
        AYON_SERVER_URL=server_url, AYON_API_KEY=api_key, AYON_HEADLESS_MODE="1",
        AYON_LAUNCHER_LOCAL_DIR=str(home / "local"),
        AYON_LAUNCHER_CONFIG_DIR=str(home / "config"),
        AYON_SERVER_TIMEOUT="2", AYON_SERVER_RETRIES="1",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    work = home / "cwd"
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environ)
        sys.path[:] = path
        sys.argv[:] = argv
        for handler in list(launcher_logger.handlers):
            if handler not in handlers:
                launcher_logger.removeHandler(handler)
        launcher_logger.setLevel(level)
        # Add-on packages imported from this home's store: later tests import their own.
        for name in set(sys.modules) - modules:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin.startswith(str(home)):
                del sys.modules[name]


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """``ayon ARGS`` in-process: (exit code, stdout, stderr)."""
    logger = logging.getLogger("ayon_launcher")
    for handler in list(logger.handlers):
        # The launcher's handler binds sys.stderr when created: make it bind our capture.
        if getattr(handler, "_ayon_launcher", False):
            logger.removeHandler(handler)
    out, err = io.StringIO(), io.StringIO()
    code: object = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            entry.main(args)
        except SystemExit as exc:
            code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        code = 1
    return code, out.getvalue(), err.getvalue()


def check_outcome(args: list[str], code: int, out: str, err: str) -> str | None:
    """The fuzz property; returns the error line of a failure."""
    shown = out + err
    assert "Traceback" not in shown, (args, err)
    assert "unexpected error" not in err, (args, err)
    assert FUZZ_KEY not in shown, args
    if code == 0:
        return None
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(ERROR_PREFIXES)]
    if not errors and out.startswith("Usage: ") and "Options:" in out:
        return None  # a command group called without a sub-command shows its help
    assert len(errors) == 1, (args, err)
    assert lines[-1] == errors[0], (args, err)
    return errors[0]


# --- CLI arguments -----------------------------------------------------------------------------

def _safe_text(min_size: int = 0, max_size: int = 16) -> st.SearchStrategy[str]:
    # Real argv cannot hold NUL or lone surrogates; everything else is fair game.
    return st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                   min_size=min_size, max_size=max_size)


def _relative_path() -> st.SearchStrategy[str]:
    """Output paths that stay inside the example's working folder (we run as any user)."""
    part = st.text(string.ascii_letters + string.digits + " ._-éß", min_size=1, max_size=10)
    return st.lists(part, min_size=1, max_size=3).map("/".join).filter(
        lambda p: ".." not in p.split("/") and not p.startswith(("/", "~")))


GLOBAL_FLAGS = ["--headless", "--use-staging", "--use-dev", "--skip-bootstrap"]
VALUE_FLAGS = ["--bundle", "--verbose"]
COMMAND_OPTIONS = {
    "extractenvironments": ["--project", "--asset", "--folder", "--task", "--app"],
    "contextselection": ["--project", "--asset", "--strict"],
    "publish": ["--targets", "-t", "--gui"],
    "addon": [],
    "module": [],
    "run": ["--script"],
    "logout": [],
}


@st.composite
def cli_arguments(draw: st.DrawFn) -> list[str]:
    args: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            args.append(draw(st.sampled_from(GLOBAL_FLAGS)))
        else:
            flag = draw(st.sampled_from(VALUE_FLAGS))
            value = draw(st.one_of(_safe_text(), st.sampled_from(
                ["debug", "51", "-1", "10", "Warning", "demo_production"])))
            args += [f"{flag}={value}"] if draw(st.booleans()) else [flag, value]
    command = draw(st.one_of(st.sampled_from(sorted(COMMAND_OPTIONS)), st.none(),
                             _safe_text(1).filter(lambda t: t not in entry.COMMANDS)))
    if command is None:
        return args + [draw(st.sampled_from(["--help", "--version", "--bogus"]))]
    args.append(command)
    options = COMMAND_OPTIONS.get(command, [])
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 3))
        if kind == 0 and options:
            args += [draw(st.sampled_from(options)), draw(_safe_text())]
        elif kind == 1:
            args.append(draw(_relative_path()))
        elif kind == 2:
            args.append(draw(st.sampled_from(["--help", "-h", "--", "-", "--bogus", "x.py"])))
        else:
            args.append(draw(_safe_text()))
    return args


@settings(SETTINGS, max_examples=200)
@given(args=cli_arguments())
def test_cli_arguments_fuzz(tmp_path_factory, args):
    home = tmp_path_factory.mktemp("fuzz-cli")
    with launcher_process(home, dead_url()):
        code, out, err = run_cli(args)
    check_outcome(args, code, out, err)


@pytest.mark.parametrize("args,expected", [
    (["--verbose", "loud", "addon"], "invalid log level 'loud'"),
    (["--skip-bootstrap", "extractenvironments", "out.json", "--project", "p"],
     None),  # partial context: a warning, then the global environment (exit 0)
    (["--skip-bootstrap", "extractenvironments", "out.json", "--project", "p", "--asset", "a",
      "--task", "t", "--app", "maya/2024"], "needs the AYON server"),
    (["extractenvironments", "out.json"], "cannot start offline"),
    (["--skip-bootstrap", "contextselection", "o.json", "--asset", "a"], "--asset needs"),
    (["publish", "missing.json"], "metadata file not found"),
    (["addon", "demo_tools", "hello"], "cannot start offline"),
    (["nonexistent_script.py"], "script not found"),
])
def test_cli_known_bad_inputs_are_one_line(tmp_path, args, expected):
    with launcher_process(tmp_path, dead_url()):
        code, out, err = run_cli(args)
    line = check_outcome(args, code, out, err)
    if expected is None:
        assert code == 0, err
    else:
        assert code != 0 and expected in line, err


def test_argument_with_a_line_break_gives_one_line(tmp_path):
    """A bad argument is echoed in the error: its line breaks must not split the line."""
    args = ["logout", "first line\nsecond line"]
    with launcher_process(tmp_path, dead_url()):
        code, out, err = run_cli(args)
    assert code == 2
    check_outcome(args, code, out, err)


def test_output_path_problems_are_one_line(tmp_path):
    (tmp_path / "cwd").mkdir()
    (tmp_path / "cwd" / "a_file").write_text("x")
    (tmp_path / "cwd" / "a_dir").mkdir()
    cases = ["a_file/env.json", "a_dir", "", "a_dir/"]
    for target in cases:
        with launcher_process(tmp_path, dead_url()):
            args = ["--skip-bootstrap", "extractenvironments", target]
            code, out, err = run_cli(args)
        assert code != 0, (target, err)
        check_outcome(args, code, out, err)


# --- JSON inputs: publish metadata -------------------------------------------------------------

JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6),
                        st.floats(allow_nan=False), _safe_text(0, 12))
JSON = st.recursive(JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_safe_text(0, 8), inner, max_size=4)),
    max_leaves=12)

VALID_JOB = {
    "project": "demo_Commercial", "folder": "/assets/characters/robot", "task": "modeling",
    "comment": "fuzz", "instances": [
        {"productName": "modelMain", "productType": "model", "files": ["out/robot.abc"]},
        {"productName": "renderMain", "productType": "render",
         "representations": [{"name": "exr", "stagingDir": "out", "files": ["b.1001.exr"]}]},
    ],
}


@st.composite
def mutated_job(draw: st.DrawFn) -> object:
    """A valid farm job with one to three parts replaced by arbitrary JSON."""
    job = json.loads(json.dumps(VALID_JOB))
    # The objects that can be changed, taken before any change replaces one of them.
    parts = [job, job["instances"][0], job["instances"][1],
             job["instances"][1]["representations"][0]]
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(parts))
        key = draw(st.one_of(st.sampled_from(sorted(target)), _safe_text(1, 8)))
        if draw(st.integers(0, 4)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(JSON)
    return job


@st.composite
def metadata_text(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=40))  # not even text
    if kind == 1:
        return json.dumps(VALID_JOB).encode()[: draw(st.integers(0, 60))]  # cut short
    document = draw(JSON) if kind == 2 else draw(mutated_job())
    return json.dumps(document).encode()


@settings(SETTINGS, max_examples=150)
@given(content=metadata_text(), targets=st.lists(_safe_text(0, 6), max_size=2))
def test_publish_metadata_fuzz(tmp_path_factory, content, targets):
    home = tmp_path_factory.mktemp("fuzz-publish")
    with launcher_process(home, dead_url()):
        (home / "cwd" / "job.json").write_bytes(content)
        args = ["publish", "job.json", *[a for t in targets for a in ("--targets", t)]]
        code, out, err = run_cli(args)
    line = check_outcome(args, code, out, err)
    # The file is checked before any server call; a well-formed one then needs the server.
    assert code != 0
    assert ("metadata" in line or "job.json" in line or "cannot start offline" in line
            or "needs the AYON server" in line), line


@pytest.fixture(scope="module")
def publish_home(tmp_path_factory, local_server):
    """One launcher home against the real server: the demo add-ons are installed once."""
    home = tmp_path_factory.mktemp("fuzz-publish-server")
    with launcher_process(home, local_server.url, local_server.service_api_key):
        code, _out, err = run_cli(["addon", "demo_tools", "hello"])
    assert code == 0, err
    return home


@settings(SETTINGS, max_examples=12)
@given(job=mutated_job())
def test_publish_mutated_jobs_against_the_server(publish_home, local_server, job):
    """Mutated jobs reach the publish engine: each ends in one line or a real publish. The
    files named do not exist, so nothing can be integrated into the shared server."""
    with launcher_process(publish_home, local_server.url, local_server.service_api_key):
        (publish_home / "cwd" / "job.json").write_text(json.dumps(job), encoding="utf-8")
        args = ["publish", "job.json", "--targets", "farm"]
        code, out, err = run_cli(args)
    assert local_server.service_api_key not in out + err
    assert "Traceback" not in out + err and "unexpected error" not in err, err
    if code != 0:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines[-1].startswith(ERROR_PREFIXES), err
        assert sum(line.startswith(ERROR_PREFIXES) for line in lines) == 1, err


# --- JSON inputs: environment definitions of extractenvironments -------------------------------

# What str.splitlines() breaks on.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
ENV_KEY = _safe_text(0, 8).filter(lambda key: not any(c in LINE_BREAKS for c in key))
ENV_JSON = st.recursive(JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(ENV_KEY, inner, max_size=4)), max_leaves=12)


def _check_definitions(layers: list[object]) -> None:
    named = [(f"layer{index}", layer) for index, layer in enumerate(layers)]
    try:
        result = compute_environment(named, base={"PATH": "/usr/bin"})
    except LauncherError as exc:
        assert str(exc) and len(str(exc).splitlines()) == 1, str(exc)
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.items())


@settings(SETTINGS, max_examples=300)
@given(layers=st.lists(st.one_of(ENV_JSON, ENV_JSON.map(json.dumps)), min_size=1, max_size=3))
def test_environment_definitions_fuzz(layers):
    """Applications/tools settings hold environment definitions as JSON (objects or text):
    any of them resolves to strings or fails with one LauncherError line naming the input."""
    _check_definitions(layers)


@pytest.mark.parametrize("layer", [{"A\nB": [[]]}, {"A\nB": {"": None}}])
def test_environment_key_with_a_line_break_gives_one_line(layer):
    _check_definitions([layer])


CYCLE = {"MAYA_LOCATION": "{MAYA_HOME}", "MAYA_HOME": "{MAYA_LOCATION}/x"}


@settings(SETTINGS, max_examples=6)
@given(environment=st.one_of(JSON, JSON.map(json.dumps)))
@example(environment=CYCLE)  # must fail, naming the keys
def test_extractenvironments_with_fuzzed_application_settings(tmp_path_factory, fresh_server,
                                                              environment):
    """The environment of application maya/2024 in the bundle's settings replaced by fuzzed
    JSON, then the real command: the environment file, or one error line."""
    api = ayon_api.ServerAPI(fresh_server.url)
    api.login(fresh_server.admin_user, fresh_server.admin_password)
    addon = "applications"
    bundles = api.get_bundles()
    production = next(b for b in bundles["bundles"] if b["name"] == bundles["productionBundle"])
    version = production["addons"][addon]
    current = api.get(f"addons/{addon}/{version}/settings").data
    variant = next(v for v in current["applications"]["maya"]["variants"] if v["name"] == "2024")
    variant["environment"] = environment
    response = api.post(f"addons/{addon}/{version}/settings", **current)
    assert response.status_code < 300, response.text
    home = tmp_path_factory.mktemp("fuzz-env")
    with launcher_process(home, fresh_server.url, fresh_server.service_api_key):
        args = ["extractenvironments", "env.json", "--project", "demo_Commercial", "--asset",
                "robot", "--task", "modeling", "--app", "maya/2024"]
        code, out, err = run_cli(args)
        written = (home / "cwd" / "env.json").exists()
    assert fresh_server.service_api_key not in out + err
    assert "Traceback" not in err and "unexpected error" not in err, err
    if code == 0:
        assert written
    else:
        assert not written
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines[-1].startswith("ayon: error: "), err
        assert sum(line.startswith("ayon: error: ") for line in lines) == 1, err
        if environment == CYCLE:
            assert "MAYA_LOCATION" in lines[-1] and "MAYA_HOME" in lines[-1], err
