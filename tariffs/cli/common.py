"""Options and error handling shared by every command."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import click

from tariffs.errors import TariffsError
from tariffs.report import FORMATS, check_output


def report_options(func: Callable) -> Callable:
    """``--format`` and ``-o/--output``, for every command that produces a report."""
    func = click.option(
        "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
        help="Write the report to this file (atomically) instead of the terminal.",
    )(func)  # fmt: skip
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
        help="Output format; xlsx needs --output.",
    )(func)  # fmt: skip


def indices_option(func: Callable) -> Callable:
    return click.option(
        "--indices", "indices_dir", type=click.Path(file_okay=False, path_type=Path),
        default=Path("indices"), show_default=True, help="Index store folder (catalog.toml + CSV files).",
    )(func)  # fmt: skip


def guarded(func: Callable) -> Callable:
    """Turn our errors into ``path[:line]: key: message`` lines on stderr and exit 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            if "output" in kwargs:  # a report option: refused before the work, not after
                check_output(kwargs["output"], kwargs.get("fmt"))
            return func(*args, **kwargs)
        except TariffsError as exc:
            for line in exc.lines():
                click.echo(f"error: {line}" if not _located(line) else line, err=True)
            sys.exit(1)
        except BrokenPipeError:  # the reader stopped (| head): nothing more to say
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except OSError as exc:
            where = getattr(exc, "filename", None)
            click.echo(f"{where}: {exc.strerror or exc}" if where else f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def _located(line: str) -> bool:
    return ":" in line.split(" ", 1)[0]


def emit(text: str | None) -> None:
    if text is not None:
        click.echo(text, nl=not text.endswith("\n"))


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


@contextmanager
def progress(total: int, description: str, *, enabled: bool | None = None):
    """A rich progress bar on standard error while long work runs; silent when not a terminal.

    Yields ``step(text, total=None)``, which advances the bar by one stage and names
    the next (``total``: the number of stages, when known only once the work runs).
    The pipeline is vectorised (no per-row loop), so stages are the unit of progress.
    """
    show = sys.stderr.isatty() if enabled is None else enabled
    if not show:
        yield lambda text="", total=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def step(text: str = "", total: int | None = None) -> None:
            bar.update(task, advance=1, description=text or description, total=total)

        yield step
