"""Talking to a provider from the management side: its model list, one tiny chat request.

Synchronous (httpx), run on a worker thread by the server and in-process by the CLI's
local client. Used to sync model lists, to validate a key before it is saved, to test a
provider or account, and to test the outbound proxy. Nothing here logs or returns a
secret: errors carry the upstream's status and message, never the request headers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import orjson

from omni import ir
from omni.errors import OmniError
from omni.providers import wire
from omni.providers.endpoints import chat_url
from omni.providers.executor import Target
from omni.providers.http import USER_AGENT
from omni.translate import errors as dialect_errors
from omni.translate.codec import codec


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one call upstream went: HTTP status (None: no answer), latency, error text."""

    ok: bool
    status: int | None
    latency_ms: float
    error: str | None = None
    data: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 1),
            "error": self.error,
        }


def models_url(fmt: str, base_url: str, models_path: str | None = None) -> str:
    """Where a provider of wire format ``fmt`` lists its models."""
    base = base_url.rstrip("/")
    if models_path:
        return base + models_path
    return base + ("/api/tags" if fmt == "ollama" else "/models")


def _explain(status: int, raw: bytes) -> str:
    detail = dialect_errors.upstream_message(raw) or f"HTTP {status}"
    if status in (401, 403):
        return f"the upstream refused the credentials (HTTP {status}): {detail}"
    if status == 404:
        return f"the upstream has no such endpoint or model (HTTP 404): {detail}"
    if status == 429:
        return f"the upstream is rate limiting this key (HTTP 429): {detail}"
    return f"the upstream answered HTTP {status}: {detail}"


def request(
    method: str,
    url: str,
    headers: dict[str, str],
    *,
    body: bytes | None = None,
    proxy: str | None = None,
    timeout: float = 15.0,
) -> Outcome:
    """One HTTP call; a failure of any kind is an :class:`Outcome` with ``ok`` False."""
    import httpx

    started = time.perf_counter()
    try:
        with httpx.Client(proxy=proxy, timeout=timeout, trust_env=False) as http:
            response = http.request(
                method, url, content=body, headers={**headers, "User-Agent": USER_AGENT}
            )
    except httpx.ProxyError:
        elapsed = (time.perf_counter() - started) * 1000
        return Outcome(False, None, elapsed, "the proxy refused or failed the connection")
    except httpx.TimeoutException:
        elapsed = (time.perf_counter() - started) * 1000
        return Outcome(False, None, elapsed, f"no answer from {url} within {timeout:g} s")
    except httpx.HTTPError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return Outcome(False, None, elapsed, f"could not connect to {url}: {type(exc).__name__}")
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code >= 400:
        error = _explain(response.status_code, response.content)
        return Outcome(False, response.status_code, elapsed, error)
    return Outcome(True, response.status_code, elapsed, data=response.content)


def fetch_models(
    fmt: str,
    base_url: str,
    headers: dict[str, str],
    *,
    models_path: str | None = None,
    proxy: str | None = None,
) -> tuple[Outcome, list[str]]:
    """Ask a provider for its model list: the outcome, and the ids it listed."""
    url = models_url(fmt, base_url, models_path)
    outcome = request("GET", url, headers, proxy=proxy)
    if not outcome.ok:
        return outcome, []
    try:
        data = orjson.loads(outcome.data)
    except orjson.JSONDecodeError:
        data = None
    ids = _model_ids(fmt, data)
    if ids is None:
        bad = replace(outcome, ok=False, error=f"the model list at {url} is not in a known shape")
        return bad, []
    return outcome, ids


def _model_ids(fmt: str, data: Any) -> list[str] | None:
    if not isinstance(data, dict):
        return None
    if fmt in ("gemini", "ollama"):
        items = data.get("models")
        key = "name"
    else:
        items = data.get("data")
        key = "id"
    if not isinstance(items, list):
        return None
    ids = [str(i[key]) for i in items if isinstance(i, dict) and isinstance(i.get(key), str)]
    return [m.removeprefix("models/") for m in ids] if fmt == "gemini" else ids


def chat_once(target: Target, model: str, timeout: float = 30.0) -> Outcome:
    """Send one tiny chat request ("ping", a few tokens at most) to ``target``."""
    request_ir = ir.Request(
        model=model,
        messages=[ir.Message("user", [ir.Text("Reply with one word: ping")])],
        max_tokens=16,
    )
    dialect = ir.Dialect(target.format)
    payload = codec(dialect).encode_request(request_ir)
    aimed = replace(target, model=model)
    url, body = chat_url(aimed, stream=False), orjson.dumps(payload)
    if target.wire is not None:  # a subscription: its API's own request shape
        url, body, _ = wire.shape(aimed, url, body)
    outcome = request("POST", url, target.headers, body=body, proxy=target.proxy, timeout=timeout)
    if not outcome.ok:
        return outcome
    if target.wire is not None:
        outcome = replace(outcome, data=wire.settle(target, outcome.data))
    try:
        answer = codec(dialect).decode_response(orjson.loads(outcome.data))
    except (OmniError, ValueError, TypeError, KeyError, AttributeError):
        return replace(outcome, ok=False, error="the upstream's answer is not a chat response")
    return replace(outcome, data=answer)
