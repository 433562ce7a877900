"""What publish plug-ins of add-ons use from the launcher.

``context.data`` of every publish holds:

- ``ayonApi``: the connected ``ayon_api.ServerAPI``
- ``ayonTransaction``: the :class:`PublishTransaction`; stage files and entities there, never
  write into publish folders or to the server directly (the engine commits at the end)
- ``publishJob`` (:class:`PublishJob`), ``publishMetadata`` (the raw JSON) and
  ``publishMetadataPath``
- ``projectName``, ``folderPath``, ``taskName``, ``comment``, ``user``, ``publishTargets``

Folders and tasks are looked up with ``ServerContextSource`` (the server's hierarchy),
``match_folder`` (what a name or path designates), ``find_folder`` and ``find_task``; the
last two raise ``UsageError`` with a one-line message (unknown, with close names; an
ambiguous folder name, with its paths).

An integrator may set ``instance.data["published"]`` to a dict (``productName``, ``version``,
``folderPath``, ``files``) that the report shows once the publish is committed.
"""

from __future__ import annotations

from ayon_launcher.pipeline.environment.entities import (
    ServerContextSource,
    find_folder,
    find_task,
    match_folder,
)
from ayon_launcher.pipeline.publish.anatomy import Anatomy, AnatomyError, format_template
from ayon_launcher.pipeline.publish.engine import PublishValidationError
from ayon_launcher.pipeline.publish.metadata import PublishJob, sequence_frame
from ayon_launcher.pipeline.publish.transaction import (
    PublishTransaction,
    StagedFile,
    TransactionError,
)
from ayon_launcher.support.errors import UsageError

__all__ = [
    "Anatomy",
    "AnatomyError",
    "PublishJob",
    "PublishTransaction",
    "PublishValidationError",
    "ServerContextSource",
    "StagedFile",
    "TransactionError",
    "UsageError",
    "find_folder",
    "find_task",
    "format_template",
    "match_folder",
    "sequence_frame",
]
