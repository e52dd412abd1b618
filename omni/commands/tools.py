"""``omni tools``: find coding tools and point them at omni in one step.

``omni tools setup TOOL`` writes the tool's own config (backing the files up first);
``--dry-run`` shows the change as a diff and touches nothing; ``omni tools reset TOOL``
(or ``setup --undo``) puts back what was there. ``omni setup TOOL`` is the same command.
When omni requires API keys (or with ``--create-key``) setup creates a key for the tool
through the admin API and writes it into the tool's file; it is never printed.
``omni tools launch claude|codex`` starts a tool pointed at omni without writing files.
"""

from __future__ import annotations

import os
from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table, settings_from

app = typer.Typer(help="Coding tools: detect them, point them at omni, undo it.",
                  no_args_is_help=True)  # fmt: skip

_JSON = typer.Option(False, "--json", help="Print JSON.")
_SETUP_TOOLS = ("claude", "codex", "opencode", "gemini", "droid", "openclaw", "cline", "cursor")
PLACEHOLDER_KEY = "omni-local"  # sent when omni requires no key (any value works then)
NEW_KEY = "(a new omni key)"


def _tool(tool: str) -> str:
    if tool not in _SETUP_TOOLS:
        raise typer.BadParameter(f"choose one of {', '.join(_SETUP_TOOLS)}", param_hint="TOOL")
    return tool


def omni_url(ctx: typer.Context, settings: Any) -> str:
    """Where the tools should reach omni: --url, the running server, or the config."""
    from omni.process import find_server
    from omni.tools.setup import local_url

    url = (ctx.obj or {}).get("url")
    if url:
        return str(url).rstrip("/")
    info = find_server(settings)
    return info.url if info else local_url(settings.host, settings.port)


@app.command("list")
def list_(
    json_out: bool = _JSON,
    no_check: bool = typer.Option(False, "--no-check", help="Do not run '<tool> --version'."),
) -> None:
    """List the coding tools: installed, version, and whether they point at omni."""
    from concurrent.futures import ThreadPoolExecutor

    from omni.tools import runtime
    from omni.tools.setup import inspect
    from omni.tools.writers import WRITERS, Places

    places = Places.current()

    def one(tool_id: str) -> dict[str, Any]:
        found = runtime.status(tool_id, check=not no_check)
        if tool_id in WRITERS:
            found.update(inspect(tool_id, places))
        return found

    with ThreadPoolExecutor(max_workers=len(runtime.TOOLS)) as pool:
        tools = list(pool.map(one, runtime.TOOLS))
    if json_out:
        print_json(tools)
        return
    rows = []
    for t in tools:
        where = t["version"] or t["commandPath"] or "-"
        configured = t.get("configured")
        state = "guide only" if t["tool"] not in WRITERS else "no"
        if configured:
            state = f"{configured['url']}" + (
                f" ({configured['model']})" if configured["model"] else ""
            )
        rows.append((t["tool"], t["name"], "yes" if t["installed"] else "no", where, state))
    print_table("Coding tools", ["tool", "name", "installed", "version / path", "points at"], rows)


def _key_for(client: Any, tool: str, places: Any, given: str | None, create: bool,
             dry_run: bool, url: str) -> tuple[str, int | None, str]:  # fmt: skip
    """(key to write, id of a key created now, how it was chosen)."""
    from omni.tools.setup import configured_key, inspect

    if given:
        return given, None, "given"
    current = inspect(tool, places)["configured"]
    existing = configured_key(tool, places) if current and current["url"] == url else None
    if not (create or client.require_api_key()):
        return existing or PLACEHOLDER_KEY, None, "none needed"
    if existing and not create:
        from omni.admin.access import key_prefix

        active = {k["prefix"] for k in client.list_keys() if k["status"] == "active"}
        if key_prefix(existing) in active:
            return existing, None, "kept"
    if dry_run:
        return NEW_KEY, None, "new"
    key = client.create_key(f"{tool} (omni tools setup)", scopes=["chat"])
    return key["key"], int(key["id"]), "new"


@app.command("setup")
def setup(
    ctx: typer.Context,
    tool: str = typer.Argument(..., help=" | ".join(_SETUP_TOOLS)),
    model: str = typer.Option(None, "--model", "-m", help="The model the tool asks omni for."),
    small_model: str = typer.Option(
        None, "--small-model", help="A fast model for background work (Claude Code, opencode)."
    ),
    key: str = typer.Option(None, "--key", help="An omni API key to use ('-' reads stdin)."),
    create_key: bool = typer.Option(
        False,
        "--create-key",
        help="Create a new omni key for the tool (done anyway when "
        "omni requires keys and the tool has none).",
    ),
    base_url: str = typer.Option(None, "--base-url", help="Where the tool reaches omni."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the change; write nothing."),
    undo: bool = typer.Option(False, "--undo", help="Undo the setup (same as 'tools reset')."),
    keep_key: bool = typer.Option(False, "--keep-key", help="With --undo: keep its key."),
    json_out: bool = _JSON,
) -> None:
    """Point a coding tool at omni (its own config file, backed up first)."""
    tool = _tool(tool)
    if undo:
        reset(ctx, tool=tool, keep_key=keep_key, json_out=json_out)
        return
    if tool == "cursor":
        _cursor(ctx, model, json_out)
        return
    from omni.tools.setup import Backups, apply, plan_setup, writer
    from omni.tools.writers import Places, Target

    if writer(tool).needs_model and not model:
        raise typer.BadParameter(
            f"{tool} needs a model to ask for: --model provider/model (see 'omni models list')",
            param_hint="--model",
        )
    if key == "-":
        import sys

        key = sys.stdin.readline().strip()
    settings = settings_from(ctx)
    places = Places.current()
    url = (base_url or omni_url(ctx, settings)).rstrip("/").removesuffix("/v1")
    with admin_from(ctx) as client:
        for name in (model, small_model):
            if name and (error := client.explain_route(name).get("error")):
                note(f"warning: omni cannot route '{name}' now: {error}")
        target = Target(url, key or PLACEHOLDER_KEY, model, small_model)
        plan = plan_setup(tool, places, target)  # reads and checks the files before any key
        secret, key_id, how = _key_for(client, tool, places, key, create_key, dry_run, url)
        target = Target(url, secret, model, small_model)
        plan = plan_setup(tool, places, target)
        if dry_run:
            _show_plan(plan, secret, how, json_out)
            return
        try:
            manifest = apply(plan, Backups(settings.paths.data_dir / "tool-backups"), key_id)
        except BaseException:
            if key_id is not None:
                client.revoke_key(str(key_id))
            raise
    changed = [str(c.path) for c in plan.changes if c.changed]
    result: dict[str, Any] = {
        "tool": tool,
        "url": url,
        "model": model,
        "changed": changed,
        "backup": manifest["dir"] if manifest else None,
        "key": how,
        "key_id": key_id,
    }
    if json_out:
        print_json(result)
        return
    if manifest is None:
        note(f"{tool} already points at omni ({url}); nothing changed")
        return
    note(f"{tool} now points at omni ({url}): wrote {', '.join(changed)}")
    if how == "new":
        note(f"created omni key {key_id} for {tool} (in its config; not shown)")
    note(f"backup in {manifest['dir']}; undo with 'omni tools reset {tool}'")


def _show_plan(plan: Any, secret: str, how: str, json_out: bool) -> None:
    diff = plan.diff([secret])
    if json_out:
        files = [{"path": str(c.path), "changes": c.changed} for c in plan.changes]
        print_json({"tool": plan.tool, "dry_run": True, "key": how, "files": files, "diff": diff})
        return
    if not plan.changed:
        note(f"{plan.tool} already points at omni; nothing would change")
        return
    typer.echo(diff, nl=False)
    if how == "new":
        note("a new omni key would be created for the tool")
    note("dry run: nothing was written")


def _cursor(ctx: typer.Context, model: str | None, json_out: bool) -> None:
    settings = settings_from(ctx)
    url = omni_url(ctx, settings)
    guide: dict[str, Any] = {
        "tool": "cursor",
        "writes": [],
        "base_url": f"{url}/v1",
        "model": model,
        "steps": [
            "Cursor Settings > Models > API Keys: turn on 'OpenAI API Key' and enter an omni "
            "key ('omni keys add cursor'), or any text when omni requires no key",
            f"turn on 'Override OpenAI Base URL' and enter {url}/v1",
            f"add the model name{f' {model}' if model else ''} under Models and select it",
            "Cursor sends these requests from its own servers: a local URL only works "
            "through a public tunnel to omni",
        ],
    }
    if json_out:
        print_json(guide)
        return
    note("Cursor keeps these settings in its app, so omni writes no file; set them by hand:")
    for number, step in enumerate(guide["steps"], 1):
        typer.echo(f"  {number}. {step}")


@app.command("reset")
def reset(
    ctx: typer.Context,
    tool: str = typer.Argument(..., help=" | ".join(_SETUP_TOOLS)),
    keep_key: bool = typer.Option(False, "--keep-key", help="Do not revoke the key setup made."),
    json_out: bool = _JSON,
) -> None:
    """Undo 'omni tools setup': restore the tool's files as they were."""
    tool = _tool(tool)
    if tool == "cursor":
        note("omni writes no file for cursor; remove the base URL in Cursor's settings")
        return
    from omni.errors import OmniError
    from omni.tools.setup import Backups
    from omni.tools.setup import reset as undo
    from omni.tools.writers import Places

    settings = settings_from(ctx)
    result = undo(tool, Places.current(), Backups(settings.paths.data_dir / "tool-backups"))
    revoked = []
    if result["keys"] and not keep_key:
        with admin_from(ctx) as client:
            for key_id in result["keys"]:
                try:
                    client.revoke_key(str(key_id))
                except OmniError:  # removed or revoked by hand already
                    pass
                else:
                    revoked.append(key_id)
    result["revoked_keys"] = revoked
    if json_out:
        print_json(result)
    elif result["mode"] == "nothing":
        note(f"{tool} is not set up for omni; nothing to undo")
    elif result["mode"] == "restored":
        note(f"restored {tool}'s files as they were before setup: {', '.join(result['files'])}")
    else:
        note(f"{tool}'s files changed since setup; took out omni's entries and kept the rest")
    if revoked and not json_out:
        note(f"revoked the omni key(s) setup created: {', '.join(map(str, revoked))}")


@app.command(
    "launch",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def launch(
    ctx: typer.Context,
    tool: str = typer.Argument(..., help="claude | codex"),
    model: str = typer.Option(None, "--model", "-m", help="The model to ask omni for."),
    key: str = typer.Option(
        None, "--key", envvar="OMNI_API_KEY", help="The omni API key to send [env OMNI_API_KEY]."
    ),
) -> None:
    """Start a tool pointed at omni, leaving its files alone (extra arguments go to it)."""
    from omni.errors import InvalidInputError
    from omni.tools import runtime

    if tool not in ("claude", "codex"):
        raise typer.BadParameter("launch works for claude and codex", param_hint="TOOL")
    _, path, reason = runtime.locate(runtime.TOOLS[tool])
    if path is None or reason:
        raise InvalidInputError(
            f"{tool} is not installed (or not executable)",
            hint=f"install it, or set CLI_{tool.upper()}_BIN to its path",
        )
    settings = settings_from(ctx)
    url = omni_url(ctx, settings)
    if not key:
        with admin_from(ctx) as client:
            if client.require_api_key():
                raise InvalidInputError(
                    "omni requires an API key",
                    hint="pass --key or set OMNI_API_KEY (create one: 'omni keys add NAME')",
                )
        key = PLACEHOLDER_KEY
    env = dict(os.environ)
    argv = [path]
    if tool == "claude":
        env.pop("ANTHROPIC_API_KEY", None)
        env.update({"ANTHROPIC_BASE_URL": url, "ANTHROPIC_AUTH_TOKEN": key})
        if model:
            env["ANTHROPIC_MODEL"] = model
    else:
        env["OMNI_API_KEY"] = key
        argv += [
            "-c", 'model_provider="omni"',
            "-c", 'model_providers.omni.name="omni"',
            "-c", f'model_providers.omni.base_url="{url}/v1"',
            "-c", 'model_providers.omni.wire_api="responses"',
            "-c", 'model_providers.omni.env_key="OMNI_API_KEY"',
        ]  # fmt: skip
        if model:
            argv += ["-c", f'model="{model}"']
    os.execve(path, [*argv, *ctx.args], env)  # noqa: S606 - the located tool, our arguments
