"""What a look at the bundle before the bootstrap learned, handed to that bootstrap once.

The hand-off to ayon-core (pipeline/handoff.py) asks the server which bundle starts before it
knows which path runs; the bootstrap that follows, whichever it is, starts from that answer
instead of asking again: the session logged in with (one login per start), the server found
unreachable (one decision per start: offline), or a warm check that found nothing changed.
Each is given once: a later bootstrap (the tray's Retry) asks the server again.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ayon_launcher.bootstrapper.connection.login import Session
    from ayon_launcher.bootstrapper.distribution.store import InstalledBundle

_session: Session | None = None
_unreachable: Exception | None = None
_warm: tuple[InstalledBundle, Session] | None = None


def forget() -> None:
    """A new start: nothing learned yet."""
    global _session, _unreachable, _warm
    _session = _unreachable = _warm = None


def remember_session(session: Session) -> None:
    global _session
    _session = session


def remember_unreachable(reason: Exception) -> None:
    global _unreachable
    _unreachable = reason


def remember_warm(found: tuple[InstalledBundle, Session]) -> None:
    global _warm
    _warm = found


def take_session() -> Session | None:
    """The session this process already logged in with to find the bundle, if any."""
    global _session
    found, _session = _session, None
    return found


def take_unreachable() -> Exception | None:
    """Why the look found the server unreachable (None: it did not)."""
    global _unreachable
    found, _unreachable = _unreachable, None
    return found


def take_warm() -> tuple[InstalledBundle, Session] | None:
    """The recorded bundle the server confirmed unchanged, and the session."""
    global _warm
    found, _warm = _warm, None
    return found
