"""The launcher's run context: global flags and derived settings shared by every command."""

from ayon_launcher.support.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

INFO = 20  # logging.INFO, without importing logging on the fast path

LOG_LEVEL_NAMES = {
    "notset": 0,
    "debug": 10,
    "info": 20,
    "warning": 30,
    "error": 40,
    "critical": 50,
}


def parse_log_level(value: str | int | None) -> int | None:
    """Parse ``--verbose``: an integer 0-50 or a level name; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text in LOG_LEVEL_NAMES:
        return LOG_LEVEL_NAMES[text]
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or not 0 <= number <= 50:
        names = ", ".join(LOG_LEVEL_NAMES)
        raise UsageError(f"invalid log level {value!r}: use an integer 0-50 or one of {names}")
    return number


class LauncherContext:
    """Everything decided by the global flags and the environment before a command runs.

    A plain class rather than a dataclass: it is built on every start, and the dataclasses
    module alone costs a farm's ``ayon script.py`` about a third of its start-up overhead.
    """

    def __init__(self, *, headless: bool = False, use_staging: bool = False,
                 use_dev: bool = False, bundle_name: str | None = None,
                 log_level: int = INFO, debug: bool = False, skip_bootstrap: bool = False,
                 server_url: str | None = None, token: str | None = None,
                 project_bundle_name: str | None = None, project_name: str | None = None,
                 login_mode: bool | None = None, verify: bool = False) -> None:
        self.headless = headless
        self.use_staging = use_staging
        self.use_dev = use_dev
        # The studio bundle asked for (--bundle, --studio-bundle, AYON_STUDIO_BUNDLE_NAME);
        # None: the production (staging, dev) bundle.
        self.bundle_name = bundle_name
        # The project bundle asked for (--project-bundle, AYON_BUNDLE_NAME), as the official
        # launcher names them, and the project whose bundle applies (--project,
        # AYON_PROJECT_NAME).
        self.project_bundle_name = project_bundle_name
        self.project_name = project_name
        # AYON_IN_LOGIN_MODE: the login came from the login UI / stored token (True) or from
        # AYON_API_KEY given by the caller (False); None: decided from the environment.
        self.login_mode = login_mode
        self.log_level = log_level
        self.log_level_given = log_level != INFO  # --verbose, AYON_LOG_LEVEL, --debug
        self.debug = debug
        self.skip_bootstrap = skip_bootstrap
        self.verify = verify  # --verify: every installed file read against its manifest
        # Filled in by connection/bootstrap.
        self.server_url = server_url
        self.token = token  # session token or API key: never in the repr (logs, tracebacks)
        # The login window the caller offers (the command line gives the Qt dialog): called
        # with this context, it returns a LoginAsker (connection/session.py), or None when no
        # window can be shown here. None: no window, a terminal prompt at most. Passed in
        # from above so that the layers below the GUI never import it.
        self.login_window: Callable[[LauncherContext], Any] | None = None
        self.extra: dict[str, Any] = {}

    def __repr__(self) -> str:
        shown = ("headless", "use_staging", "use_dev", "bundle_name", "project_bundle_name",
                 "project_name", "log_level", "debug", "skip_bootstrap", "verify", "server_url")
        return "LauncherContext(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in shown) + ")"
