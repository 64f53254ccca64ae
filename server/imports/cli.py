"""``crm import``: a spreadsheet from the command line, with a progress bar (files of any size up
to the import limit; the API takes files within its request size)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from server.imports.mapping import KINDS, PRESET_NAMES

PROGRESS_SLICE_SECONDS = 0.5  # how often the bar moves


def import_command(
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file.", exists=True, dir_okay=False, readable=True)],
    org: Annotated[str, typer.Option("--org", help="Slug of the organization to import into.")],
    member: Annotated[
        str, typer.Option("--as", help="E-mail of the member it is done as (needs data:import and create rights).")
    ],
    kind: Annotated[str, typer.Option("--kind", help=f"What the file holds: {', '.join(KINDS)}.")],
    preset: Annotated[
        str | None, typer.Option("--preset", help=f"Known export columns: {', '.join(PRESET_NAMES)}.")
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=FIELD (repeatable); COLUMN= leaves a column out."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row; keep nothing.")] = False,
) -> None:
    """Import accounts, orders, deals or tickets from a spreadsheet (docs/import-export.md). Prints every
    problem by row; running the same file again changes nothing; undo with the API (undoImport)."""
    from server.cli import CLIError, fail, run_db
    from server.config import Settings

    mapping: dict[str, str | None] = {}
    for pair in column or []:
        name, sep, field = pair.partition("=")
        if not sep:
            raise fail(f"--map takes COLUMN=FIELD, not '{pair}'.")
        mapping[name] = field or None
    out = Console()

    async def work():
        from server.auth import principal as principals
        from server.auth.models import User
        from server.auth.scope import Scope
        from server.core.errors import UserInputError, problems_of
        from server.imports import service

        user = await User.get_or_none(email=member.strip().lower(), is_active=True)
        if user is None:
            raise CLIError(f"No active user with e-mail {member}.")
        scope = Scope(await principals.for_user(user, org))
        try:
            batch = await service.start(
                scope,
                kind=kind,
                file_name=file.name,
                content=file.read_bytes(),
                preset=preset,
                mapping=mapping or None,
                dry_run=dry_run,
                queue=False,
            )
        except UserInputError as exc:
            raise CLIError("\n".join(e.message for e in problems_of(exc))) from None
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=out) as bar:
            task = bar.add_task("checking" if dry_run else "importing", total=batch.rows_total)
            while batch.status in ("queued", "running"):
                batch = await service.run(batch.id, slice_seconds=PROGRESS_SLICE_SECONDS, queue_rest=False)
                bar.update(task, completed=batch.rows_done)
        return batch

    batch = run_db(Settings(), work)
    if batch.status == "failed":
        raise fail(batch.error or "The import failed.")
    for problem in batch.problems:
        where = f"row {problem['row']}" if problem["row"] else "-"
        out.print(f"{where}: {problem['field'] or ''} {problem['code']}: {problem['message']}", highlight=False)
    verb = "would be created" if dry_run else "created"
    out.print(
        f"{batch.created_count} {verb}, {batch.matched_count} already there, {batch.failed_count} left out "
        f"(batch {batch.id}).",
        highlight=False,
    )
