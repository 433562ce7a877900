"""A minimal browser login page at ``/?auth_redirect=...``, as the real AYON web UI has.

The form logs in through the real ``POST /api/auth/login`` and sends the browser to
``{auth_redirect}?token=...``, the way the AYON web UI hands a login to a launcher. Only
loopback http addresses are accepted as ``auth_redirect``: a token never leaves the machine.
Without ``auth_redirect``, ``/`` answers as before.
"""

from __future__ import annotations

import html
import json
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>AYON - Log in</title>
<style>
body {{ font-family: sans-serif; background: #1c2026; color: #e0e0e0; }}
form {{ width: 300px; margin: 15vh auto; display: flex; flex-direction: column; gap: 8px; }}
input, button {{ padding: 8px; font-size: 14px; }}
#error {{ color: #e05555; min-height: 1.2em; }}
</style></head>
<body><form id="login">
<h2>Log in to AYON</h2>
<p>The AYON launcher asks for your login.</p>
<input id="name" name="name" placeholder="user name" autocomplete="username" required>
<input id="password" name="password" type="password" placeholder="password"
 autocomplete="current-password" required>
<button id="submit" type="submit">Log in</button>
<div id="error">{error}</div>
</form>
<script id="redirect" type="application/json">{redirect}</script>
<script>
const redirect = JSON.parse(document.getElementById("redirect").textContent);
document.getElementById("login").addEventListener("submit", async (event) => {{
  event.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  if (!redirect) {{ error.textContent = "This login address is not valid."; return; }}
  const response = await fetch("/api/auth/login", {{
    method: "POST", headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{name: document.getElementById("name").value,
                          password: document.getElementById("password").value}}),
  }});
  const data = await response.json().catch(() => ({{}}));
  if (response.ok && data.token) {{
    window.location.href = redirect + "?token=" + encodeURIComponent(data.token);
  }} else {{
    error.textContent = "Wrong user name or password.";
  }}
}});
</script></body></html>
"""


def safe_redirect(value: str) -> str | None:
    """``value`` when it is an http address on this machine without a query; else None."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError when malformed
    except ValueError:
        return None
    if parts.scheme != "http" or host not in _LOOPBACK_HOSTS or parts.query or parts.fragment \
            or parts.username or parts.password:
        return None
    return value


def login_page(request: Request) -> HTMLResponse | None:
    """The login page when ``/`` is asked with ``auth_redirect``; None otherwise."""
    value = request.query_params.get("auth_redirect")
    if value is None:
        return None
    redirect = safe_redirect(value)
    error = "" if redirect else "This login address is not valid (it must point to this computer)."
    # JSON inside a script element: "</" escaped so the value cannot end the element.
    data = json.dumps(redirect).replace("</", "<\\/")
    return HTMLResponse(_PAGE.format(error=html.escape(error), redirect=data),
                        status_code=200 if redirect else 400,
                        headers={"Cache-Control": "no-store"})
