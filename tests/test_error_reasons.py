"""Connection failures are said in words, never as a library's class name or text.

Real sockets on loopback: a port nobody listens on (refused), a listener that accepts and
never answers (time-out), a listener that hangs up at once (closed), and a host name that
cannot be resolved (the .invalid top-level domain never resolves).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from conftest import dead_url, isolated_env, run_ayon
from failure_helpers import error_message

CLASS_NAMES = re.compile(r"\b\w*(Error|Exception|Timeout)\b|\(\w+Error\)|\.py\b|/tmp/")


@contextlib.contextmanager
def loopback_server(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """A raw TCP listener on loopback whose accepted connections go to ``handle``; its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn = listener.accept()[0]
            except OSError:
                continue
            held.append(conn)
            handle(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def _hang_up(conn: socket.socket) -> None:
    try:
        conn.recv(1024)
    except OSError:
        pass
    conn.close()


@pytest.fixture
def silent_server():
    """Accepts connections and never answers."""
    with loopback_server(lambda conn: None) as url:
        yield url


@pytest.fixture
def hanging_up_server():
    """Accepts connections and closes them at once."""
    with loopback_server(_hang_up) as url:
        yield url


def error_line_of(tmp_path, url: str, **extra: str) -> str:
    env = {**isolated_env(tmp_path, url), "AYON_API_KEY": "some-key", **extra}
    result = run_ayon(["--headless", "extractenvironments", str(tmp_path / "env.json")], env)
    assert result.returncode == 3, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("ayon: ")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    line = error_message(lines[0])  # the log file named at the end is no internal file
    assert not CLASS_NAMES.search(line), line
    return line


def test_connection_refused(tmp_path):
    url = dead_url()
    assert f"AYON server {url} cannot be reached (connection refused)" in \
        error_line_of(tmp_path, url)


def test_no_answer_says_how_long_it_waited(tmp_path, silent_server):
    line = error_line_of(tmp_path, silent_server, AYON_SERVER_TIMEOUT="1")
    assert f"AYON server {silent_server} cannot be reached (no answer after 1 s)" in line


def test_server_that_hangs_up(tmp_path, hanging_up_server):
    assert "(the server closed the connection)" in error_line_of(tmp_path, hanging_up_server)


def test_unknown_host_name(tmp_path):
    assert "(host name not found)" in error_line_of(tmp_path, "http://ayon.invalid")


def _answer_not_ayon(conn: socket.socket) -> None:
    """An ordinary web server's answer: an HTML page, whatever was asked."""
    try:
        conn.recv(4096)
        body = b"<html><body>Welcome to the studio intranet</body></html>"
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
    except OSError:
        pass
    conn.close()


def test_a_server_that_answers_but_is_not_ayon_is_exit_3(tmp_path):
    """The README's exit 3 for a URL where no AYON server answers, even though something does."""
    with loopback_server(_answer_not_ayon) as url:
        line = error_line_of(tmp_path, url)
    assert line == (f"ayon: error: {url} does not look like an AYON server "
                    "(GET /api/info answered HTTP 404)")


def test_reasons_of_library_errors():
    """The wording of each kind of failure, from the exceptions requests really raises."""
    import requests

    from ayon_launcher.bootstrapper.connection.tls import network_reason

    with pytest.raises(requests.RequestException) as refused:
        requests.get(f"{dead_url()}/", timeout=5)
    assert network_reason(refused.value) == "connection refused"
    assert network_reason(requests.ReadTimeout("read timed out"), 10) == "no answer after 10 s"
