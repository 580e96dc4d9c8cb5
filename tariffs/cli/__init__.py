"""The ``tariffs`` command line: thin click commands, one module per job."""

from __future__ import annotations

import importlib

import click

from tariffs import __version__

COMMAND_MODULES = ("revise", "indices", "convert", "audit", "exposure")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tariffs")
def main() -> None:
    """Revise and audit the prices of heating contracts from published indices.

    \b
    Examples:
      tariffs check contracts
      tariffs revise contracts --at 2024-07
      tariffs indices list
    """


for _name in COMMAND_MODULES:
    _module = importlib.import_module(f"tariffs.cli.{_name}")
    for _command in getattr(_module, "COMMANDS", ()):
        main.add_command(_command)
