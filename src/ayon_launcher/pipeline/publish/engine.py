"""The publish engine: run pyblish plug-ins in order, stop at the first failure, then commit.

The staged integration (see ``transaction.py``) is committed only when every plug-in passed;
before the plug-ins run, publishes of the project killed earlier are cleaned up
(``journal.py``).
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
import types
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ayon_launcher.pipeline.publish.metadata import PublishJob
from ayon_launcher.support.errors import LauncherError, error_line
from ayon_launcher.support.log import get_logger, redact

if TYPE_CHECKING:
    import ayon_api

log = get_logger("publish")

DEFAULT_TARGET = "default"
HOST_NAME = "shell"  # what farm publishing calls its host; plug-ins with hosts ["*"] run too


class PublishValidationError(Exception):
    """Raised by validators: the report shows its message without the exception's name."""


class PublishError(LauncherError):
    """The publish did not happen (a plug-in failed, nothing to publish, bad plug-in file)."""


@dataclass
class PluginResult:
    """One plug-in processed once (on the context, or on one instance)."""

    plugin: str  # class name
    label: str
    instance: str | None
    success: bool
    error: str | None = None
    traceback: str | None = None
    records: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.label if self.label == self.plugin else f"{self.label} ({self.plugin})"

    @property
    def title(self) -> str:
        return f"{self.name} [{self.instance}]" if self.instance else self.name


@dataclass
class PublishReport:
    """What happened: every plug-in run, the failure if any, and what was published."""

    metadata_path: str
    project: str
    folder: str
    task: str
    targets: list[str]
    results: list[PluginResult] = field(default_factory=list)
    published: list[dict[str, Any]] = field(default_factory=list)
    success: bool = False
    error: str | None = None
    failed: PluginResult | None = None
    recovered: list[str] = field(default_factory=list)  # interrupted publishes cleaned up
    unresolved: bool = False  # the server's answer to the commit was lost and unknowable

    def lines(self) -> list[str]:
        """The report as text lines for a terminal."""
        out = [f"Publishing {self.metadata_path}",
               f"  context: project {self.project}, folder {self.folder}, task {self.task}; "
               f"targets: {', '.join(self.targets)}"]
        out += [f"  {line}" for line in self.recovered]
        for result in self.results:
            state = "ok" if result.success else "FAILED"
            out.append(f"  {state:<7}{result.title}")
            if not result.success and result.error:
                out.append(f"         {result.error}")
        for item in self.published:
            files = item.get("files") or []
            out.append(f"Published {item.get('folderPath', '')} {self.published_label(item)} "
                       f"({len(files)} file{'s' if len(files) != 1 else ''})")
        if self.success:
            out.append("Publish finished.")
        else:
            out.append(f"Publish failed: {self.error}")
            if self.failure_text:
                out.append(self.failure_text)
        return out

    @property
    def failure_text(self) -> str:
        """The sentence after a failure's error: what the failed publish left behind.

        Empty when the publish succeeded, or when the server never confirmed the commit: the
        files then stay in place, and the error (``CommitUnresolved``) says so itself.
        """
        return "" if self.success or self.unresolved else "Nothing was integrated."

    @staticmethod
    def published_label(item: dict[str, Any]) -> str:
        """``modelMain v003`` for an item of :attr:`published`."""
        return f"{item.get('productName', '?')} v{int(item.get('version', 0)):03d}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ResultCallback = Callable[[PluginResult], None]


def _error_text(error: BaseException) -> str:
    """One line (see ``errors.error_line``); a validator's message says it all by itself."""
    line = error_line(error)
    if isinstance(error, PublishValidationError):
        return line.removeprefix(f"{type(error).__name__}: ")
    return line


def _quiet_pyblish() -> None:
    """pyblish logs each plug-in failure with its traceback; the report says it once instead.

    Plug-ins log to ``pyblish.<Name>`` loggers, which pyblish captures into each result.
    """
    logger = logging.getLogger("pyblish.plugin")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    from ayon_launcher.support.log import screen_level

    logger.propagate = screen_level() <= logging.DEBUG


def _load_plugin_file(path: Path) -> list[type]:
    import pyblish.api
    import pyblish.plugin

    name = str(path)
    module = types.ModuleType(name)
    module.__file__ = name
    try:
        code = compile(path.read_bytes(), name, "exec")
        exec(code, module.__dict__)  # noqa: S102 - running plug-in files is the point
    except Exception as exc:  # noqa: BLE001 - any error in a plug-in file is reported alike
        raise PublishError(f"publish plug-in file {path} failed to load: "
                           f"{_error_text(exc)}") from None
    # pyblish looks plug-in modules up by file name (tracebacks); keep it alive like it does.
    sys.modules[name] = module
    found = []
    for value in vars(module).values():
        if (isinstance(value, type) and issubclass(value, pyblish.api.Plugin)
                and value.__module__ == name and pyblish.plugin.plugin_is_valid(value)
                and pyblish.plugin.version_is_compatible(value)):
            found.append(value)
    return found


def discover_plugins(paths: Iterable[str | os.PathLike[str]]) -> list[type]:
    """Plug-in classes from the ``.py`` files of ``paths`` (not recursive), in pyblish order.

    A plug-in file that fails to import stops the publish (a missing validator must never
    let a publish through); of two plug-ins with one class name the first folder wins.
    """
    import pyblish.plugin

    plugins: list[type] = []
    names: set[str] = set()
    seen: set[str] = set()
    for folder in paths:
        folder = Path(folder).absolute()
        if str(folder) in seen:
            continue
        seen.add(str(folder))
        if not folder.is_dir():
            log.warning("publish plug-in folder does not exist: %s", folder)
            continue
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            for plugin in _load_plugin_file(path):
                if plugin.__name__ in names:
                    log.warning("publish plug-in %s in %s ignored: a plug-in of that name was "
                                "found first", plugin.__name__, path)
                    continue
                names.add(plugin.__name__)
                plugins.append(plugin)
    pyblish.plugin.sort(plugins)
    return plugins


def select_plugins(plugins: list[type], targets: list[str]) -> list[type]:
    """Active plug-ins for this host whose pyblish targets match ``targets``."""
    import pyblish.logic

    matching = pyblish.logic.plugins_by_targets(plugins, targets)
    return [p for p in matching
            if p.active and ("*" in p.hosts or HOST_NAME in p.hosts)]


def effective_targets(targets: Iterable[str]) -> list[str]:
    """``default`` plus the requested targets (``--targets farm,x`` and repeats both work)."""
    result = [DEFAULT_TARGET]
    for item in targets:
        for name in str(item).split(","):
            name = name.strip()
            if name and name not in result:
                result.append(name)
    return result


def _plugin_result(plugin: type, instance: Any, outcome: dict[str, Any] | None,
                   error: BaseException | None) -> PluginResult:
    records: list[str] = []
    if outcome is not None:
        error = outcome.get("error") or error
        for record in outcome.get("records") or []:
            records.append(redact(f"{record.levelname}: {record.getMessage()}"))
    tb = None
    if error is not None:
        tb = redact("".join(traceback.format_exception(type(error), error,
                                                       error.__traceback__)))
    return PluginResult(
        plugin=plugin.__name__,
        label=str(getattr(plugin, "label", None) or plugin.__name__),
        instance=_instance_name(instance) if instance is not None else None,
        success=error is None,
        error=_error_text(error) if error is not None else None,
        traceback=tb,
        records=records,
    )


def _instance_name(instance: Any) -> str:
    data = instance.data
    return str(data.get("label") or data.get("productName") or instance.name)


def _run_one(plugin: type, context: Any, instance: Any) -> PluginResult:
    import pyblish.plugin

    try:
        outcome = pyblish.plugin.process(plugin, context, instance)
    except Exception as exc:  # noqa: BLE001 - e.g. the plug-in's constructor raised
        return _plugin_result(plugin, instance, None, exc)
    return _plugin_result(plugin, instance, outcome, None)


def _active_instances(context: Any) -> list[Any]:
    return [i for i in context if i.data.get("publish") is not False]


def run_publish(
    job: PublishJob,
    api: ayon_api.ServerAPI,
    plugin_paths: Iterable[str | os.PathLike[str]] = (),
    targets: Iterable[str] = (),
    on_result: ResultCallback | None = None,
) -> PublishReport:
    """Publish ``job``: plug-ins from ``plugin_paths`` and the job's own plug-in folders.

    Returns the report; the publish succeeded when ``report.success``. Plug-ins stage their
    integration in ``context.data["ayonTransaction"]``, committed only when all passed.
    """
    import pyblish.api

    from ayon_launcher.pipeline.publish.journal import recover
    from ayon_launcher.pipeline.publish.transaction import CommitUnresolved, PublishTransaction

    _quiet_pyblish()
    chosen_targets = effective_targets(targets)
    report = PublishReport(str(job.path), job.project, job.folder, job.task, chosen_targets)
    # Before anything is staged: a killed publish may hold the destinations this one needs.
    report.recovered = [item.line() for item in recover(api, job.project)]
    plugins = select_plugins(discover_plugins([*plugin_paths, *job.plugin_paths]),
                             chosen_targets)
    if not plugins:
        report.error = (f"no publish plug-ins match the targets {', '.join(chosen_targets)} "
                        "(are the add-ons that provide them in the bundle?)")
        return report

    transaction = PublishTransaction(api, job.project)
    context = pyblish.api.Context()
    context.data.update(
        ayonApi=api,
        ayonTransaction=transaction,
        publishJob=job,
        publishMetadata=job.raw,
        publishMetadataPath=str(job.path),
        publishTargets=chosen_targets,
        projectName=job.project,
        folderPath=job.folder,
        taskName=job.task,
        comment=job.comment,
        user=job.user,
        hostName=HOST_NAME,
    )
    collection_done = False
    try:
        for plugin in plugins:
            if not collection_done and plugin.order >= pyblish.api.CollectorOrder + 0.5:
                collection_done = True
                if not _check_collected(context, report):
                    return report
            if plugin.__instanceEnabled__:
                import pyblish.logic

                instances = pyblish.logic.instances_by_plugin(_active_instances(context),
                                                              plugin)
                if not instances:
                    log.debug("%s: no matching instance, skipped", plugin.__name__)
                    continue
            else:
                instances = [None]
            for instance in instances:
                result = _run_one(plugin, context, instance)
                report.results.append(result)
                log.debug("%s: %s", result.title, "ok" if result.success else result.error)
                if on_result is not None:
                    on_result(result)
                if not result.success:
                    report.failed = result
                    report.error = f"{result.title}: {result.error}"
                    return report
        if not collection_done and not _check_collected(context, report):
            return report
        transaction.commit()
    except LauncherError as exc:
        report.error = str(exc)
        report.unresolved = isinstance(exc, CommitUnresolved)
        return report
    finally:
        transaction.discard()  # no-op after a commit
    report.published = [dict(i.data["published"]) for i in _active_instances(context)
                        if isinstance(i.data.get("published"), dict)]
    report.success = True
    return report


def _check_collected(context: Any, report: PublishReport) -> bool:
    if _active_instances(context):
        return True
    report.error = (f"nothing to publish: the collectors found no instance with the targets "
                    f"{', '.join(report.targets)} (a farm job needs --targets farm)")
    return False


def publish_failure_message(report: PublishReport) -> str:
    """The one line ``ayon publish`` ends with when the publish did not happen."""
    message = f"publish failed: {report.error}"
    note = report.failure_text.rstrip(".")
    return f"{message}; {note[:1].lower()}{note[1:]}" if note else message
