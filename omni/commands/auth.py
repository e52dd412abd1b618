"""``omni auth`` (admin password, login lockouts) and ``omni audit`` (the audit log)."""

from __future__ import annotations

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(help="Admin login: the password and login lockouts.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command("password")
def password(ctx: typer.Context) -> None:
    """Set the admin password for logging in remotely (asked twice, never echoed)."""
    new = typer.prompt("New admin password", hide_input=True, confirmation_prompt=True)
    with admin_from(ctx) as client:
        client.set_password(new)
    note(f"admin password set via {client.where}")


@app.command("lockouts")
def lockouts(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """List addresses with failed logins and whether they are locked out."""
    with admin_from(ctx) as client:
        found = client.lockouts()
    if json_out:
        print_json(found)
        return
    if not found:
        note("no failed logins in the last 15 minutes")
        return
    print_table(
        "Login lockouts",
        ["address", "failures", "locked", "retry after (s)"],
        [(r["ip"], r["failures"], "yes" if r["locked"] else "no", r["retry_after"]) for r in found],
    )


@app.command("unlock")
def unlock(
    ctx: typer.Context, ip: str = typer.Argument(..., help="The address to unlock.")
) -> None:
    """Forget an address's failed logins and lift its lockout."""
    with admin_from(ctx) as client:
        client.unlock(ip)
    note(f"unlocked {ip}")


def audit(
    ctx: typer.Context,
    action: str = typer.Option(None, "--action", help="Only actions starting with this (key.)."),
    limit: int = typer.Option(50, "--limit", "-n", help="How many entries [50]."),
    before: int = typer.Option(None, "--before", help="Only entries older than this id."),
    json_out: bool = _JSON,
) -> None:
    """Show the audit log: logins, keys, providers, combos, settings (newest first)."""
    with admin_from(ctx) as client:
        page = client.audit_log(action=action, limit=limit, before=before)
    entries = page["entries"]
    if json_out:
        print_json(entries)
        return
    if not entries:
        note("no audit entries match")
        return
    print_table(
        "Audit log",
        ["id", "time", "actor", "action", "target", "ip", "outcome"],
        [(e["id"], e["ts"], e["actor"], e["action"], e["target"], e["ip"], e["outcome"])
         for e in entries],
    )  # fmt: skip
    if page.get("next_before"):
        note(f"older entries: omni audit --before {page['next_before']}")
