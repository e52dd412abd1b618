"""``omni tui``: the terminal dashboard.

Textual is imported inside the command, so ``omni --help`` and every other command start
without it. Finding (or starting) the server and logging in happen here, before the
dashboard takes the screen, so questions and errors appear as plain terminal lines.
"""

from __future__ import annotations

import typer

from omni.commands._output import note


def tui(
    ctx: typer.Context,
    url: str = typer.Option(
        None, "--url", help="Watch the omni server at this URL (asks for its admin password)."
    ),
    password: str = typer.Option(
        None,
        "--password",
        envvar="OMNI_ADMIN_PASSWORD",
        hidden=True,
        help="The remote server's admin password (else asked, never echoed).",
    ),
    no_start: bool = typer.Option(
        False, "--no-start", help="Do not start a local server when none runs."
    ),
) -> None:
    """Open the live dashboard: providers, sessions, limits, telemetry, requests, cost."""
    from omni.config import load_settings
    from omni.tui.connect import attach

    target = url or (ctx.obj or {}).get("url")
    connection = attach(
        load_settings(),
        url=target,
        password=password,
        ask_password=lambda: typer.prompt("Admin password", hide_input=True),
        start=not no_start,
    )
    if connection.note:
        note(f"omni: {connection.note}")
    from omni.tui.app import OmniApp

    OmniApp(connection.api(), note=connection.note).run()
    if connection.note:
        note(f"omni: the server at {connection.url} is still running ('omni stop' stops it)")
