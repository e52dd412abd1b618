"""Evals through the HTTP API and the CLI: suites of cases run through omni's own gateway
(against a model or a combo), graded by exact / contains / regex checks, and stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omni.admin.token import read_admin_token
from omni.config import Settings
from tests.conftest import run_omni
from tests.fakes.upstream import Reply

CASES = [
    {"name": "capital", "prompt": "Capital of France?", "expected": {"contains": "Paris"}},
    {"prompt": "What is 6*7?", "system": "Answer with a number.", "expected": {"exact": "42"}},
    {"name": "colour", "prompt": "Sky colour?", "expected": {"regex": "^red", "ignore_case": True}},
]


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


async def test_a_suite_runs_through_the_gateway_and_keeps_its_results(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    created = await client.post(
        "/api/evals", headers=auth,
        json={"name": "basics", "model": "fake/gpt-4o-mini", "cases": CASES},
    )  # fmt: skip
    assert created.status == 201
    suite = await created.json()
    assert suite["case_count"] == 3 and suite["last_run"] is None
    assert suite["cases"][1]["name"] == "case 2"

    upstream.push(Reply(text="It is Paris."), Reply(text=" 42\n"), Reply(text="Blue, mostly."))
    response = await client.post(f"/api/evals/{suite['id']}/run", headers=auth)
    assert response.status == 200
    run = await response.json()
    assert (run["total"], run["passed"], run["pass_rate"]) == (3, 2, round(2 / 3, 4))
    assert [r["passed"] for r in run["results"]] == [True, True, False]
    assert run["results"][2]["checks"] == [{"check": "regex", "value": "^red", "passed": False}]
    assert all(r["latency_ms"] >= 0 for r in run["results"]) and run["latency_ms"] is not None
    sent = [r.json for r in upstream.requests if r.path.endswith("/chat/completions")]
    assert [m["content"] for m in sent[1]["messages"]] == ["Answer with a number.", "What is 6*7?"]
    assert {r["model"] for r in sent} == {"gpt-4o-mini"}

    shown = await (await client.get("/api/evals/basics", headers=auth)).json()
    assert shown["last_run"]["id"] == run["id"] and shown["last_run"]["results"][0]["passed"]
    listed = await (await client.get("/api/evals", headers=auth)).json()
    assert listed["suites"][0]["last_run"]["passed"] == 2


async def test_a_run_against_a_combo_falls_back_and_errors_are_recorded(
    gateway: Callable[..., Any],
    upstream: Any,
    settings: Settings,
    add_provider: Callable[..., Any],
) -> None:
    add_provider("spare", base_url=f"{upstream.url}/v1", api_key="k2", models=["m2"],
                 sync_models=False)  # fmt: skip
    client = await gateway()
    auth = _auth(settings)
    await client.post("/api/combos", headers=auth,
                      json={"name": "duo", "steps": ["fake/gpt-4o", "spare/m2"]})  # fmt: skip
    await client.post("/api/evals", headers=auth, json={
        "name": "one", "model": "fake/gpt-4o", "cases": CASES[:1]})  # fmt: skip

    upstream.push(Reply(status=500), Reply(text="Paris"))
    run = await (
        await client.post("/api/evals/one/run", headers=auth, json={"model": "duo"})
    ).json()
    assert run["model"] == "duo" and run["passed"] == 1, run["results"][0]["error"]
    assert [r.json["model"] for r in upstream.requests[-2:]] == ["gpt-4o", "m2"]

    upstream.push(Reply(status=400, error_message="bad prompt"))
    run = await (
        await client.post("/api/evals/one/run", headers=auth, json={"model": "spare/m2"})
    ).json()
    assert run["passed"] == 0 and "bad prompt" in run["results"][0]["error"]
    assert run["latency_ms"] is None


async def test_bad_input_is_a_clear_4xx(gateway: Callable[..., Any], settings: Settings) -> None:
    client = await gateway()
    auth = _auth(settings)

    async def create(body: dict[str, Any]) -> tuple[int, str]:
        response = await client.post("/api/evals", headers=auth, json=body)
        return response.status, (await response.json()).get("error", {}).get("message", "")

    base = {"name": "s", "model": "fake/gpt-4o", "cases": CASES}
    assert await create({**base, "cases": []}) == (400, "'cases' must be a list of 1 to 200 cases")
    status, message = await create({**base, "cases": [{"prompt": "x", "expected": {"regex": "("}}]})
    assert status == 400 and "does not compile" in message
    status, message = await create({**base, "cases": [{"prompt": "x", "expected": {}}]})
    assert status == 400 and "exact, contains, regex" in message
    assert (await create({**base, "name": "9lives"}))[0] == 400
    assert (await create(base))[0] == 201
    assert (await create(base))[0] == 409
    missing = await client.get("/api/evals/nope", headers=auth)
    assert missing.status == 404
    unroutable = await client.post("/api/evals/s/run", headers=auth, json={"model": "nope/x"})
    assert unroutable.status == 404
    assert (await client.delete("/api/evals/s", headers=auth)).status == 200
    assert (await client.get("/api/evals/s", headers=auth)).status == 404


async def test_cli_without_a_server_and_through_one(
    gateway: Callable[..., Any], upstream: Any, tmp_path: Path
) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"description": "smoke", "cases": CASES[:2]}))
    client = await gateway()  # adds provider 'fake'; the CLI below uses the store directly
    await client.close()

    await run_omni("evals", "add", "smoke", "--model", "fake/gpt-4o-mini", "--file", str(cases))
    upstream.push(Reply(text="Paris"), Reply(text="42"))
    _, out, _ = await run_omni("evals", "run", "smoke", "--json")
    assert json.loads(out)["pass_rate"] == 1.0
    upstream.push(Reply(text="Lyon"), Reply(text="42"))
    code, _, err = await run_omni("evals", "run", "smoke", check=False)
    assert code == 1, err
    _, _, err = await run_omni("evals", "run", "smoke", "--min-pass-rate", "0.5", check=False)
    _, out, _ = await run_omni("evals", "list", "--json")
    assert json.loads(out)[0]["description"] == "smoke"
    _, out, _ = await run_omni("evals", "show", "smoke")
    assert "smoke" in out and "capital" in out


async def test_cli_through_a_running_server(
    gateway: Callable[..., Any], upstream: Any, tmp_path: Path
) -> None:
    client = await gateway()
    url = str(client.make_url("")).rstrip("/")
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(CASES[:1]))
    await run_omni("--url", url, "evals", "add", "live", "-m", "fake/gpt-4o", "-f", str(cases))
    upstream.push(Reply(text="Paris, of course"))
    _, out, _ = await run_omni("--url", url, "evals", "run", "live", "--json")
    run = json.loads(out)
    assert run["passed"] == 1 and run["results"][0]["output"] == "Paris, of course"
    _, out, _ = await run_omni("--url", url, "evals", "show", "live", "--json")
    assert json.loads(out)["runs"][0]["id"] == run["id"]
    await run_omni("--url", url, "evals", "rm", "live")
    _, out, _ = await run_omni("--url", url, "evals", "list", "--json")
    assert json.loads(out) == []
