"""Helpers of the failure suite: a fault-injecting loopback proxy in front of the local server."""

from __future__ import annotations

import re
import socket
import struct
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

# What ends every ``ayon: error: ...`` line: where the support log file is.
LOG_SUFFIX = re.compile(r" \(log: (?P<path>[^()]+/ayon\.log)\)$")


def error_message(line: str, log: bool | str | Path = True) -> str:
    """``line`` (an ``ayon: error: ...`` line) without its log suffix, checked: it ends with
    `` (log: PATH)``, PATH an existing ``ayon.log`` (``log`` itself when a path is given), or
    has no suffix when ``log`` is False (no log file could be written)."""
    assert "\n" not in line, line
    match = LOG_SUFFIX.search(line)
    if log is False:
        assert match is None, f"a log file named, but none can be written: {line}"
        return line
    assert match is not None, f"no log file named at the end of: {line}"
    if log is not True:
        assert match["path"] == str(log), line
    assert Path(match["path"]).is_file(), f"the log file named does not exist: {line}"
    return line[:match.start()]


def error_messages(lines: list[str]) -> list[str]:
    """The ``ayon: error:`` lines of ``lines`` without their (checked) log suffix."""
    return [error_message(line) if line.startswith("ayon: error: ") else line for line in lines]


# How long a stalled answer waits at most before giving up on its own (keeps tests bounded).
STALL_LIMIT = 20.0
SLOW_STEPS = 400
SLOW_PAUSE = 0.02
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-encoding", "content-length"}


class FaultProxy:
    """Forwards every request to ``upstream``; requests whose path contains a rule's text get
    that rule's fault instead:

    * ``"500"``: HTTP 500 with a JSON body, as a crashing server answers;
    * ``"503"``: HTTP 503 (overloaded / restarting);
    * ``"hang"``: reads the request and sends nothing until :meth:`release` (or STALL_LIMIT);
    * ``"stall"``: sends the headers and half of the body, then nothing (slow server);
    * ``"reset"``: sends the headers and half of the body, then resets the TCP connection;
    * ``"cut"``: sends the headers (the full Content-Length) and half of the body, then closes
      the connection cleanly (a transfer shorter than announced);
    * ``"close"``: closes the connection without any answer (server died mid-request).
    * ``"slow"``: sends the body in SLOW_STEPS small pieces, one every SLOW_PAUSE seconds
      (all at once after :meth:`release`); ``outcomes[path]`` then says "complete" or "cut"
      (the client went away before the end).

    ``times`` bounds how often a rule fires (None: always). ``hits`` counts requests per path.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[list] = []  # [text, mode, remaining or None]
        self.hits: dict[str, int] = {}
        self.partial_bytes: dict[str, int] = {}
        self.outcomes: dict[str, str] = {}
        self.hooks: list[list] = []  # [text, callback, remaining]
        self._release = threading.Event()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                owner._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    # -- configuration --------------------------------------------------------------------------

    def fail(self, path_contains: str, mode: str, times: int | None = None) -> None:
        with self._lock:
            self.rules.append([path_contains, mode, times])

    def before(self, path_contains: str, callback: Callable[[], object], times: int = 1) -> None:
        """Call ``callback()`` before forwarding the next ``times`` matching requests (e.g. to
        expire a token between two calls of one launcher)."""
        with self._lock:
            self.hooks.append([path_contains, callback, times])

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
        self.release()

    def release(self) -> None:
        """Let every stalled or hanging answer finish (by closing its connection)."""
        self._release.set()

    def hits_for(self, path_contains: str) -> int:
        return sum(count for path, count in self.hits.items() if path_contains in path)

    def close(self) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- serving --------------------------------------------------------------------------------

    def _rule_for(self, path: str) -> str | None:
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            for hook in self.hooks:
                if hook[0] in path and hook[2] > 0:
                    hook[2] -= 1
                    hook[1]()
            for rule in self.rules:
                text, mode, remaining = rule
                if text in path and (remaining is None or remaining > 0):
                    if remaining is not None:
                        rule[2] = remaining - 1
                    return mode
        return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        mode = self._rule_for(handler.path)
        if mode == "close":
            handler.close_connection = True
            return
        if mode == "hang":
            self._release.wait(STALL_LIMIT)
            handler.close_connection = True
            return
        if mode in ("500", "503"):
            payload = b'{"detail": "Internal Server Error", "code": %s}' % mode.encode()
            handler.send_response(int(mode))
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP
                   and k.lower() != "host"}
        try:
            upstream = requests.request(handler.command, self.upstream + handler.path,
                                        headers=headers, data=body, timeout=60, stream=True)
            data = upstream.raw.read(decode_content=False)
        except requests.RequestException as exc:
            handler.send_error(502, f"proxy: {type(exc).__name__}")
            return
        handler.send_response(upstream.status_code)
        for key, value in upstream.headers.items():
            if key.lower() not in HOP_BY_HOP:
                handler.send_header(key, value)
        if upstream.headers.get("Content-Encoding"):
            handler.send_header("Content-Encoding", upstream.headers["Content-Encoding"])
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if mode == "slow" and handler.command != "HEAD":
            self._trickle(handler, data)
            return
        if mode in ("stall", "reset", "cut") and handler.command != "HEAD":
            half = data[: max(1, len(data) // 2)]
            handler.wfile.write(half)
            handler.wfile.flush()
            self.partial_bytes[handler.path] = len(half)
            if mode == "stall":
                self._release.wait(STALL_LIMIT)
            elif mode == "reset":
                # SO_LINGER with a zero timeout: close() sends a RST instead of a FIN.
                handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                              struct.pack("ii", 1, 0))
            handler.close_connection = True
            return
        if handler.command != "HEAD":
            handler.wfile.write(data)


    def _trickle(self, handler: BaseHTTPRequestHandler, data: bytes) -> None:
        step = max(1, len(data) // SLOW_STEPS)
        sent = 0
        try:
            while sent < len(data):
                self._release.wait(SLOW_PAUSE)
                piece = data[sent:sent + step]
                handler.wfile.write(piece)
                handler.wfile.flush()
                sent += len(piece)
                self.partial_bytes[handler.path] = sent
        except OSError:
            self.outcomes[handler.path] = "cut"
        else:
            self.outcomes[handler.path] = "complete"
        handler.close_connection = True
