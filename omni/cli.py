"""The ``omni`` command: composes the command groups; holds no logic.

Every command is listed in :data:`COMMANDS` with its help panel and one-line help, and its
module is imported only when that command runs: ``omni --help`` and ``omni --version``
load no command module, and ``omni serve`` loads only the server commands. Heavy modules
(aiohttp's server, textual) are imported inside the commands that need them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from omni import __version__
from omni.entry import report
from omni.errors import OmniError


class Entry(NamedTuple):
    """Where a root command lives and what ``omni --help`` says about it."""

    module: str  # under omni.commands
    attr: str  # a Typer group, or a command function
    panel: str
    help: str  # the one line ``omni --help`` shows: the group's or the function's own
    extras: tuple[str, ...] = ()  # modules that add commands to this group
    own_help: bool = False  # True: the help above is the command's help (an alias)


# In the order ``omni --help`` lists them (within a panel). A test checks each help line
# against the command's own.
COMMANDS: dict[str, Entry] = {
    "serve": Entry("server", "serve", "Server",
          "Run the gateway (foreground; Ctrl-C stops it cleanly)."),
    "start": Entry("server", "start", "Server",
          "Start the gateway in the background."),
    "stop": Entry("server", "stop", "Server",
          "Stop the background gateway (in-flight requests finish, writes are flushed)."),
    "restart": Entry("server", "restart", "Server",
          "Stop the gateway if it runs, then start it in the background."),
    "status": Entry("server", "status", "Server",
          "Say whether the gateway runs, where, and how it is."),
    "logs": Entry("logs", "logs", "Inspect",
          "Show the latest requests, newest last."),
    "usage": Entry("usage", "usage", "Inspect",
          "Totals of requests, tokens and cost by day, provider, model or key."),
    "doctor": Entry("doctor", "doctor", "Server",
          "Check config, data permissions, store, key, port, providers and coding tools."),
    "setup": Entry("tools", "setup", "Coding tools",
          "Point a coding tool at omni (short for 'omni tools setup').", own_help=True),
    "tui": Entry("tui", "tui", "Inspect",
          "Open the live dashboard: providers, sessions, limits, telemetry, requests, cost."),
    "audit": Entry("auth", "audit", "Inspect",
          "Show the audit log: logins, keys, providers, combos, settings (newest first)."),
    "providers": Entry("providers", "app", "Manage",
          "Upstream providers and their accounts.", ("provider_ops", "provider_login")),
    "accounts": Entry("accounts", "app", "Manage",
          "Accounts: several keys per provider, tried in order."),
    "combos": Entry("combos", "app", "Manage",
          "Combos: a model name that tries several targets in turn.", ("probes",)),
    "keys": Entry("keys", "app", "Manage",
          "Local API keys that clients send to omni (required with REQUIRE_API_KEY=true)."),
    "nodes": Entry("nodes", "app", "Manage",
          "Custom provider nodes (compatible endpoints)."),
    "aliases": Entry("aliases", "app", "Manage",
          "Model aliases: a name or glob pattern that stands for another model."),
    "models": Entry("models", "app", "Manage",
          "Models: configured, catalog, availability, custom.", ("probes",)),
    "proxy": Entry("proxy", "app", "Manage",
          "The outbound proxy for upstream requests."),
    "config": Entry("config", "app", "Manage",
          "Settings in config.toml."),
    "backup": Entry("backup", "app", "Manage",
          "Database backups: list, create, restore, export and import."),
    "route": Entry("routing", "route_app", "Inspect",
          "How model strings are routed."),
    "resilience": Entry("routing", "resilience_app", "Inspect",
          "Resting accounts, open circuits and the fallback policy."),
    "limits": Entry("routing", "limits_app", "Manage",
          "Operator caps: requests/tokens per minute and concurrency."),
    "budget": Entry("budget", "app", "Manage",
          "Spending limits per API key."),
    "cache": Entry("cache", "app", "Manage",
          "The response cache of deterministic answers."),
    "evals": Entry("evals", "app", "Manage",
          "Evals: prompts with expected answers, run against a model or combo."),
    "sync": Entry("sync", "app", "Manage",
          "Share configuration between omni instances."),
    "tools": Entry("tools", "app", "Coding tools",
          "Coding tools: detect them, point them at omni, undo it."),
    "auth": Entry("auth", "app", "Manage",
          "Admin login: the password and login lockouts."),
}  # fmt: skip


def load_command(name: str) -> Any:
    """The click command for the root command ``name``, its module imported now."""
    entry = COMMANDS[name]
    module = importlib.import_module(f"omni.commands.{entry.module}")
    for extra in entry.extras:
        importlib.import_module(f"omni.commands.{extra}")
    target = getattr(module, entry.attr)
    holder = typer.Typer()  # composed the way a root registration would compose it
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name, rich_help_panel=entry.panel)
    else:
        help_text = entry.help if entry.own_help else None
        holder.command(name, rich_help_panel=entry.panel, help=help_text)(target)
    return typer.main.get_group(holder).commands[name]


class _Group(TyperGroup):
    """The root group: commands load on first use (see :data:`COMMANDS`), and an
    :class:`OmniError` from any command becomes a short message."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(n for n in super().list_commands(ctx) if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        entry = COMMANDS.get(cmd_name)
        if command is None and entry is not None:
            # Listing (help, completion): the table's line, without importing the module.
            return TyperCommand(cmd_name, help=entry.help, rich_help_panel=entry.panel)
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in COMMANDS and args[0] not in self.commands:
            self.add_command(load_command(args[0]), args[0])
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OmniError as exc:
            report(exc.message, exc.hint)
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


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
