"""``omni providers login|import``: sign subscription accounts in (Claude Code, Codex,
GitHub Copilot, Gemini CLI, Qwen Code) or take over the vendor CLI's own sign-in.

Registered on the ``omni providers`` group (see :mod:`omni.commands.providers`). The flow
runs through the admin client (the running server, or the store in-process); the browser
side (the callback listener, the pasted code, the credential file) stays on this machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json
from omni.commands.providers import app

_JSON = typer.Option(False, "--json", help="Print JSON.")
_ACCOUNT = typer.Option("default", "--account", help="Account name (several allowed).")
_PROJECT = typer.Option(None, "--project", help="Gemini CLI: the Google Cloud project to use.")
_FILE = typer.Option(None, "--file", help="The credential file [the tool's own].")


def _open(url: str) -> None:
    import contextlib
    import webbrowser

    with contextlib.suppress(webbrowser.Error):  # the URL is printed anyway
        webbrowser.open(url)


@app.command("login")
def login(
    ctx: typer.Context,
    provider: str = typer.Argument(
        ..., help="claude (cc), codex (cx), github (gh), gemini-cli or qwen (qw)."
    ),
    account: str = _ACCOUNT,
    paste: bool = typer.Option(
        False, "--paste", help="Paste the code instead of running a local listener (headless)."
    ),
    port: int = typer.Option(
        None,
        "--port",
        help="Callback listener port (default: the vendor's, else any).",
    ),
    project: str = _PROJECT,
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the URL to open."),
    timeout: float = typer.Option(300.0, "--timeout", help="Seconds to wait for the sign-in."),
    json_out: bool = _JSON,
) -> None:
    """Sign a subscription account in (browser + PKCE, or a device code)."""
    from omni.oauth.specs import spec_for

    spec = spec_for(provider)
    with admin_from(ctx) as client:
        if spec.flow == "device":
            result = _device(client, spec.id, account, no_browser)
        elif paste:
            result = _paste(client, spec.id, account, project)
        else:
            listen_port = spec.loopback_port if port is None else port
            result = _listen(client, spec, account, project, listen_port, no_browser, timeout)
        where = client.where
    _done(result, json_out, where)


def _listen(
    client: Any, spec: Any, account: str, project: str | None, port: int, quiet: bool,
    timeout: float,
) -> dict[str, Any]:  # fmt: skip
    from omni.oauth.flows import CallbackListener

    with CallbackListener(port, spec.loopback_path) as listener:
        started = client.oauth_authorize(
            spec.id, redirect_uri=listener.redirect_uri, account=account, project=project
        )
        note(f"Open this URL to sign in to {spec.name} (waiting on {listener.redirect_uri}):")
        note(started["url"])
        if not quiet:
            _open(started["url"])
        code, state = listener.wait(timeout)
    result: dict[str, Any] = client.oauth_exchange(spec.id, started["flow_id"], code, state)
    return result


def _paste(client: Any, provider: str, account: str, project: str | None) -> dict[str, Any]:
    started = client.oauth_authorize(provider, account=account, project=project)
    note("Open this URL in any browser and sign in:")
    note(started["url"])
    note("Then paste the code it shows (or the whole address the browser ended on):")
    pasted = sys.stdin.readline()
    result: dict[str, Any] = client.oauth_exchange(provider, started["flow_id"], pasted.strip())
    return result


def _device(client: Any, provider: str, account: str, quiet: bool) -> dict[str, Any]:
    started = client.oauth_device_code(provider, account=account)
    page = started.get("verification_uri_complete") or started["verification_uri"]
    note(f"Open {started['verification_uri']} and enter the code: {started['user_code']}")
    if not quiet:
        _open(page)
    note("Waiting for the approval (Ctrl-C to give up)…")
    interval = float(started["interval"])
    while True:
        time.sleep(interval)
        answer = client.oauth_poll(provider, started["flow_id"])
        if answer["status"] == "complete":
            result: dict[str, Any] = answer["account"]
            return result
        interval = float(answer["interval"])


def _done(result: dict[str, Any], json_out: bool, where: str) -> None:
    if json_out:
        print_json(result)
        return
    who = f" as {result['email']}" if result.get("email") else ""
    note(
        f"signed in{who}: account '{result['account']}' of provider '{result['provider']}' "
        f"via {where}; ask for '{result['provider']}/<model>'"
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    tool: str = typer.Argument(..., help="claude | codex | gemini"),
    file: Path = _FILE,
    account: str = _ACCOUNT,
    write_back: bool = typer.Option(
        False, "--write-back", help="Write refreshed tokens back into the file."
    ),
    project: str = _PROJECT,
    json_out: bool = _JSON,
) -> None:
    """Take over the sign-in of Claude Code, Codex or the Gemini CLI from their files."""
    from omni.oauth.importers import default_path, read_file

    tool = {"cc": "claude", "claude-code": "claude", "cx": "codex", "gemini-cli": "gemini"}.get(
        tool, tool
    )
    path = file or default_path(tool)
    document = read_file(tool, path)
    with admin_from(ctx) as client:
        result = client.oauth_import(
            tool, document, account=account, project=project,
            write_back=str(path.resolve()) if write_back else None,
        )  # fmt: skip
        where = client.where
    if json_out:
        print_json(result)
        return
    note(
        f"imported {path}: account '{result['account']}' of provider '{result['provider']}' "
        f"via {where}"
    )
