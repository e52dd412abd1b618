"""``omni sync``: share this omni's configuration with another, or pull another's.

On the serving omni: ``omni sync init`` prints a sync token (``--with-keys`` lets it pull
upstream keys too). On the pulling one: ``omni sync pull URL --token T`` fetches the
bundle and merges it here, the pulled side winning every conflict; ``--dry-run`` shows
what would change. A pull of an unchanged bundle (same ETag as the last pull from that
URL) changes nothing.
"""

from __future__ import annotations

from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json

app = typer.Typer(help="Share configuration between omni instances.", no_args_is_help=True)
_JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command("init")
def init(
    ctx: typer.Context,
    with_keys: bool = typer.Option(
        False, "--with-keys", help="Let the token pull upstream API keys as well."
    ),
    json_out: bool = _JSON,
) -> None:
    """Create (or rotate) the sync token and print it (shown this once)."""
    with admin_from(ctx) as client:
        result = client.sync_init(with_keys)
    if json_out:
        print_json(result)
        return
    typer.echo(result["token"])
    may = "may" if result["withKeys"] else "may not"
    note(f"sync token {result['prefix']}… created via {client.where}; any earlier one stops "
         f"working. It {may} pull upstream keys.")  # fmt: skip


@app.command("status")
def status(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """The sync token (its prefix) and the last pull."""
    with admin_from(ctx) as client:
        result = client.sync_status()
    if json_out:
        print_json(result)
        return
    token, last = result["token"], result["last_pull"]
    typer.echo(
        f"token: {token['prefix']}… (keys: {'yes' if token['withKeys'] else 'no'}, last used "
        f"{token['last_used_at'] or 'never'})" if token else "token: none (omni sync init)"
    )  # fmt: skip
    typer.echo(f"last pull: {last['source']} at {last['pulled_at']}" if last else
               "last pull: never")  # fmt: skip


@app.command("revoke")
def revoke(ctx: typer.Context) -> None:
    """Stop the sync token from working."""
    with admin_from(ctx) as client:
        result = client.sync_revoke()
    note("sync token revoked" if result["revoked"] else "there was no sync token")


def _report(result: dict[str, Any]) -> None:
    verb = "would" if result["dry_run"] else "did"
    for section in ("providers", "combos", "aliases", "settings"):
        part = result[section]
        for kind in ("added", "changed"):
            if part[kind]:
                typer.echo(f"{section} {kind} ({verb}): {', '.join(part[kind])}")
        if part["kept"]:
            typer.echo(f"{section} kept (only here): {', '.join(part['kept'])}")
    for item in result["needs_key"]:
        p, a = item["provider"], item["account"]
        note(
            f"{p}/{a} came without its key and is disabled: omni providers add {p} "
            f"--account {a} --api-key … && omni providers edit {p} --account {a} --enable"
        )
    for warning in result["warnings"]:
        note(f"warning: {warning}")


@app.command("pull")
def pull(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="The serving omni, e.g. http://10.0.0.5:20128"),
    token: str = typer.Option(..., "--token", envvar="OMNI_SYNC_TOKEN", help="Its sync token."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change, change nothing."
    ),
    with_keys: bool = typer.Option(False, "--with-keys", help="Pull upstream keys too."),
    force: bool = typer.Option(False, "--force", help="Apply even if the bundle is unchanged."),
    json_out: bool = _JSON,
) -> None:
    """Fetch another omni's configuration and merge it here (pulled wins conflicts)."""
    from omni.client_evals import fetch_bundle

    source = url.rstrip("/")
    with admin_from(ctx) as client:
        last = client.sync_status()["last_pull"]
        etag = last["etag"] if last and last["source"] == source and not force else None
        bundle = fetch_bundle(source, token, with_keys, None if dry_run else etag)
        if bundle is None:
            if json_out:
                print_json({"unchanged": True, "etag": etag})
            else:
                note(f"nothing to do: {source} serves the bundle pulled last time ({etag})")
            return
        result = client.sync_apply(bundle, dry_run, source)
    if json_out:
        print_json(result)
        return
    _report(result)
    done = "dry run: nothing changed" if dry_run else f"applied bundle {result['etag']}"
    note(f"{done} (from {source} into {client.where})")
