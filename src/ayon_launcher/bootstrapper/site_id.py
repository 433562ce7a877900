"""The machine's site id (AYON_SITE_ID): kept in ``site_id`` in the launcher's local folder."""

from __future__ import annotations

import os

SITE_ID_ENV = "AYON_SITE_ID"
SITE_ID_FILE = "site_id"

# Three words, as official launchers name sites ("brave-quick-otter"): readable in the UI.
_FIRST = ("amber", "brave", "calm", "clever", "crisp", "eager", "gentle", "golden", "happy",
          "lively", "lucky", "mellow", "nimble", "proud", "quiet", "rapid", "silver", "steady",
          "sunny", "swift", "tidy", "vivid", "warm", "witty")
_SECOND = ("arctic", "autumn", "coastal", "crimson", "desert", "forest", "misty", "mountain",
           "northern", "ocean", "polar", "prairie", "river", "rustic", "spring", "stormy",
           "summer", "valley", "velvet", "winter")
_THIRD = ("badger", "beaver", "crane", "falcon", "fox", "gecko", "heron", "ibex", "koala",
          "lynx", "marten", "newt", "otter", "panda", "puffin", "raven", "seal", "stoat",
          "swan", "tapir", "walrus", "wombat", "yak", "zebra")


def new_site_id() -> str:
    import secrets  # here: made once per machine, while every start reads the file

    return "-".join(secrets.choice(words) for words in (_FIRST, _SECOND, _THIRD))


def site_id_path() -> str:
    from ayon_launcher.support import paths

    return os.path.join(paths.local_folder(), SITE_ID_FILE)


def local_site_id() -> str:
    """AYON_SITE_ID, else the id in the ``site_id`` file (made once, on first use).

    The file is where the official launcher keeps it, so both launchers on one machine are
    the same site. Never raises for an unwritable folder: the id is then used for this run.
    """
    site_id = os.environ.get(SITE_ID_ENV, "").strip()
    if site_id:
        return site_id
    path = site_id_path()
    try:
        with open(path, encoding="utf-8") as handle:
            site_id = handle.read().strip()
    except OSError:
        site_id = ""
    if site_id:
        return site_id
    site_id = new_site_id()
    # Written whole beside the file, then linked into place: two launchers starting at once
    # agree on one id, and nobody reads a half-written file.
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(site_id)
        os.link(tmp, path)
    except FileExistsError:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or site_id
    except OSError:
        pass  # unwritable folder: this run uses the new id
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return site_id
