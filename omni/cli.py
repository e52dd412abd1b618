"""The ``omni`` command: composes the command groups; holds no logic.

Heavy modules (aiohttp's server, textual) are imported inside the commands that need
them, so ``omni --help`` and quick commands start fast.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from omni import __version__
from omni.commands import accounts as accounts_cmd
from omni.commands import aliases as aliases_cmd
from omni.commands import auth as auth_cmd
from omni.commands import backup as backup_cmd
from omni.commands import budget as budget_cmd
from omni.commands import cache as cache_cmd
from omni.commands import combos as combos_cmd
from omni.commands import config as config_cmd
from omni.commands import doctor as doctor_cmd
from omni.commands import evals as evals_cmd
from omni.commands import keys as keys_cmd
from omni.commands import logs as logs_cmd
from omni.commands import models as models_cmd
from omni.commands import nodes as nodes_cmd
from omni.commands import probes as _probes  # noqa: F401 - registers commands
from omni.commands import provider_login as _provider_login  # noqa: F401 - registers commands
from omni.commands import provider_ops as _provider_ops  # noqa: F401 - registers commands
from omni.commands import providers as providers_cmd
from omni.commands import proxy as proxy_cmd
from omni.commands import routing as routing_cmd
from omni.commands import server as server_cmd
from omni.commands import sync as sync_cmd
from omni.commands import tools as tools_cmd
from omni.commands import tui as tui_cmd
from omni.commands import usage as usage_cmd
from omni.errors import OmniError


class _Group(TyperGroup):
    """The root group: an :class:`OmniError` from any command becomes a short message."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OmniError as exc:
            typer.echo(f"omni: {exc.message}", err=True)
            if exc.hint:
                typer.echo(f"      {exc.hint}", err=True)
            ctx.exit(1)


app = typer.Typer(
    name="omni",
    cls=_Group,
    help="A local-first AI gateway: every LLM API dialect in, every provider out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"omni {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    url: str = typer.Option(
        None, "--url", envvar="OMNI_URL", help="Manage the omni server at this URL."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """omni: one local endpoint for every LLM API and provider."""
    ctx.obj = {"url": url}


server_cmd.register(app)
app.add_typer(providers_cmd.app, name="providers", rich_help_panel="Manage")
app.add_typer(accounts_cmd.app, name="accounts", rich_help_panel="Manage")
app.add_typer(combos_cmd.app, name="combos", rich_help_panel="Manage")
app.add_typer(keys_cmd.app, name="keys", rich_help_panel="Manage")
app.add_typer(nodes_cmd.app, name="nodes", rich_help_panel="Manage")
app.add_typer(aliases_cmd.app, name="aliases", rich_help_panel="Manage")
app.add_typer(models_cmd.app, name="models", rich_help_panel="Manage")
app.add_typer(proxy_cmd.app, name="proxy", rich_help_panel="Manage")
app.add_typer(config_cmd.app, name="config", rich_help_panel="Manage")
app.add_typer(backup_cmd.app, name="backup", rich_help_panel="Manage")
app.add_typer(routing_cmd.route_app, name="route", rich_help_panel="Inspect")
app.add_typer(routing_cmd.resilience_app, name="resilience", rich_help_panel="Inspect")
app.add_typer(routing_cmd.limits_app, name="limits", rich_help_panel="Manage")
app.add_typer(budget_cmd.app, name="budget", rich_help_panel="Manage")
app.add_typer(cache_cmd.app, name="cache", rich_help_panel="Manage")
app.add_typer(evals_cmd.app, name="evals", rich_help_panel="Manage")
app.add_typer(sync_cmd.app, name="sync", rich_help_panel="Manage")
app.command("logs", rich_help_panel="Inspect")(logs_cmd.logs)
app.command("usage", rich_help_panel="Inspect")(usage_cmd.usage)
app.command("doctor", rich_help_panel="Server")(doctor_cmd.doctor)
app.add_typer(tools_cmd.app, name="tools", rich_help_panel="Coding tools")
app.command(
    "setup",
    rich_help_panel="Coding tools",
    help="Point a coding tool at omni (short for 'omni tools setup').",
)(tools_cmd.setup)
app.command("tui", rich_help_panel="Inspect")(tui_cmd.tui)
auth_cmd.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
