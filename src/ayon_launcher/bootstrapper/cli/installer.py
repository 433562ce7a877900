"""``ayon installer build`` / ``ayon installer upload``: roll out a version of this launcher."""

from __future__ import annotations

from pathlib import Path

import click

from ayon_launcher.bootstrapper.context import LauncherContext


@click.group()
def installer() -> None:
    """Build installers of this launcher and upload them to an AYON server."""


@installer.command()
@click.option("--version", "version", metavar="VERSION",
              help="Version to build (default: the checkout's own).")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path),
              help="Launcher source checkout (default: the one running).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("dist"), show_default=True, help="Folder to write the installer to.")
@click.option("--with-wheels", is_flag=True,
              help="Bundle every pinned wheel (for machines without a package index).")
def build(version: str | None, source: Path | None, out_dir: Path, with_wheels: bool) -> None:
    """Build an installer zip (wheel + dependency lock) and its server record (.json)."""
    from ayon_launcher.bootstrapper.selfupdate.build import build_installer, read_manifest

    path = build_installer(out_dir, version=version, source=source, with_wheels=with_wheels)
    manifest = read_manifest(path)
    click.echo(f"{path} (installer version {manifest['version']}, {manifest['size']} bytes)")


@installer.command()
@click.argument("installer_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an installer of the same name.")
@click.pass_obj
def upload(launcher: LauncherContext | None, installer_file: Path, force: bool) -> None:
    """Upload an installer to the AYON server (administrators); name its version in a bundle."""
    from ayon_launcher.bootstrapper.connection import connect
    from ayon_launcher.bootstrapper.selfupdate.build import read_manifest, upload_installer

    read_manifest(installer_file)  # a wrong file fails before any login
    api = connect(launcher or LauncherContext())
    manifest = upload_installer(api, installer_file, force=force)
    click.echo(f"uploaded {manifest['filename']}: set the bundle's launcher version to "
               f"{manifest['version']}")
