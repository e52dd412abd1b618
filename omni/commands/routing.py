"""``omni route explain``, ``omni resilience show|set|reset`` and ``omni limits
show|set|rm``: why a request goes where, and the policy that decides it."""

from __future__ import annotations

import typer

from omni.commands._output import admin_from, note, print_json, print_table

route_app = typer.Typer(help="How model strings are routed.", no_args_is_help=True)
resilience_app = typer.Typer(
    help="Resting accounts, open circuits and the fallback policy.", no_args_is_help=True
)
limits_app = typer.Typer(
    help="Operator caps: requests/tokens per minute and concurrency.", no_args_is_help=True
)
_SCOPES = ("provider", "model", "account")

_JSON = typer.Option(False, "--json", help="Print JSON.")


@route_app.command("explain")
def explain(ctx: typer.Context, model: str, json_out: bool = _JSON) -> None:
    """Show the targets MODEL leads to, in the order they are tried, and their state."""
    with admin_from(ctx) as client:
        result = client.explain_route(model)
    if json_out:
        print_json(result)
        return
    if result["error"]:
        note(f"omni: {result['error']}")
        raise typer.Exit(1)
    title = f"{model} → combo '{result['combo']}'" if result["combo"] else model
    print_table(
        title,
        ["#", "provider", "account", "upstream model", "format", "status"],
        [
            (i, t["provider"], t["account"], t["model"], t["format"], t["status"])
            for i, t in enumerate(result["targets"], 1)
        ],
    )


@resilience_app.command("show")
def show(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Accounts cooling down and provider circuits that are open."""
    with admin_from(ctx) as client:
        state = client.resilience()
    if json_out:
        print_json(state)
        return
    if not state["cooldowns"] and not state["breakers"]:
        note("nothing is resting: every account and provider is available")
        return
    for item in state["cooldowns"]:
        typer.echo(f"{item['provider']}/{item['account']}: cooling for {item['cooling_s']:.0f} s")
    for provider, breaker in state["breakers"].items():
        typer.echo(f"{provider}: circuit {breaker['state']} ({breaker['failures']} failures)")


@resilience_app.command("reset")
def reset(ctx: typer.Context) -> None:
    """Put every account and provider back in rotation now."""
    with admin_from(ctx) as client:
        result = client.reset_resilience()
    note("reset: every account and provider is back in rotation" if result["reset"]
         else "no server is running: nothing was resting")  # fmt: skip


@resilience_app.command("set")
def set_(
    ctx: typer.Context,
    max_attempts: int | None = typer.Option(None, help="Targets tried per request at most."),
    cooldown_wait: float | None = typer.Option(
        None, help="Seconds a request may wait when every account rests briefly."
    ),
    fallback_model: str | None = typer.Option(
        None, help="Model tried once when everything failed ('none' to unset)."
    ),
    account_strategy: str | None = typer.Option(
        None, help="fill-first | round-robin | p2c | random | least-used"
    ),
    affinity_ttl: float | None = typer.Option(
        None, help="Seconds a conversation stays on its account (0: off)."
    ),
    provider: str | None = typer.Option(None, help="Apply the next two options to this provider."),
    provider_strategy: str | None = typer.Option(None, help="This provider's account strategy."),
    first_byte_timeout: float | None = typer.Option(
        None, help="This provider's first-byte deadline in seconds."
    ),
    json_out: bool = _JSON,
) -> None:
    """Change the fallback policy (only the options given change)."""
    with admin_from(ctx) as client:
        document = dict(client.routing_policy()["resilience"])
        for key, value in (
            ("max_attempts", max_attempts),
            ("cooldown_wait_s", cooldown_wait),
            ("account_strategy", account_strategy),
            ("affinity_ttl_s", affinity_ttl),
        ):
            if value is not None:
                document[key] = value
        if fallback_model is not None:
            document["fallback_model"] = None if fallback_model == "none" else fallback_model
        if provider_strategy is not None or first_byte_timeout is not None:
            if not provider:
                raise typer.BadParameter("name the provider with --provider")
            providers = {k: dict(v) for k, v in document.get("providers", {}).items()}
            entry = providers.setdefault(provider, {})
            if provider_strategy is not None:
                entry["account_strategy"] = provider_strategy
            if first_byte_timeout is not None:
                entry["first_byte_timeout_s"] = first_byte_timeout
            document["providers"] = providers
        result = client.set_policy("resilience", document)["resilience"]
    if json_out:
        print_json(result)
    else:
        note("fallback policy: " + (", ".join(f"{k}={v}" for k, v in result.items()) or "defaults"))


def _scope_key(scope: str) -> str:
    if scope not in _SCOPES:
        raise typer.BadParameter(f"scope must be one of {', '.join(_SCOPES)}, not {scope!r}")
    return scope + "s"


@limits_app.command("show")
def limits_show(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """The caps that are set and, with a running server, their use now."""
    with admin_from(ctx) as client:
        document = client.routing_policy()["rate_limits"]
    if json_out:
        print_json(document)
        return
    rows = [
        (scope[:-1], name, spec.get("rpm", "-"), spec.get("tpm", "-"), spec.get("concurrency", "-"))
        for scope in ("providers", "models", "accounts")
        for name, spec in sorted(document.get(scope, {}).items())
    ]
    if not rows:
        note("no caps set: add one with 'omni limits set provider NAME --rpm 60'")
        return
    print_table("Operator caps", ["scope", "name", "rpm", "tpm", "concurrency"], rows)


@limits_app.command("set")
def limits_set(
    ctx: typer.Context,
    scope: str = typer.Argument(..., help="provider | model | account"),
    name: str = typer.Argument(..., help="provider, provider/model or provider/account"),
    rpm: int | None = typer.Option(None, help="Requests per minute."),
    tpm: int | None = typer.Option(None, help="Tokens per minute."),
    concurrency: int | None = typer.Option(None, help="Requests in flight."),
) -> None:
    """Cap a provider, a model or an account."""
    key = _scope_key(scope)
    if rpm is None and tpm is None and concurrency is None:
        raise typer.BadParameter("give at least one of --rpm, --tpm, --concurrency")
    with admin_from(ctx) as client:
        document = dict(client.routing_policy()["rate_limits"])
        section = {k: dict(v) for k, v in document.get(key, {}).items()}
        entry = section.setdefault(name, {})
        for field, value in (("rpm", rpm), ("tpm", tpm), ("concurrency", concurrency)):
            if value is not None:
                entry[field] = value
        document[key] = section
        client.set_policy("rate_limits", document)
    note(f"capped {scope} '{name}': " + ", ".join(f"{k}={v}" for k, v in entry.items()))


@limits_app.command("rm")
def limits_rm(
    ctx: typer.Context,
    scope: str = typer.Argument(..., help="provider | model | account"),
    name: str = typer.Argument(...),
) -> None:
    """Remove the caps of a provider, a model or an account."""
    key = _scope_key(scope)
    with admin_from(ctx) as client:
        document = dict(client.routing_policy()["rate_limits"])
        section = dict(document.get(key, {}))
        if section.pop(name, None) is None:
            raise typer.BadParameter(f"no caps are set for {scope} '{name}'")
        document[key] = section
        client.set_policy("rate_limits", document)
    note(f"removed the caps of {scope} '{name}'")
