"""Evals: suites of prompts with expected answers, run against a model or combo through
omni's own gateway, each run stored with its pass rate and per-case latency.

A case is ``{"name", "prompt", "system", "max_tokens", "expected": {"exact", "contains",
"regex", "ignore_case"}}``: ``exact`` compares the whole answer (surrounding white space
ignored), ``contains`` is a string or a list of strings that must all appear, ``regex``
must match somewhere (:func:`re.search`); a case passes when every check given passes.

Running needs a gateway: the server passes its own (so routing, fallback, caches and the
usage log apply as for any client), the CLI without a server a temporary one
(:func:`standalone_chat`). The request and its answer go through the ``chat`` callable;
this module never calls an upstream itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from omni.admin import AdminContext
from omni.errors import ConflictError, InvalidInputError, NotFoundError, OmniError
from omni.store import audit
from omni.store import evals as repo

if TYPE_CHECKING:
    from omni.gateway.answers import Reply

T = TypeVar("T")
Chat = Callable[[bytes], Awaitable["Reply"]]
"""Sends one OpenAI Chat request body through the gateway and returns its reply."""
Offload = Callable[[Callable[[], T]], Awaitable[T]]

MAX_CASES = 200
MAX_PROMPT = 100_000
MAX_OUTPUT_KEPT = 4_000
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")
_CASE_FIELDS = {"name", "prompt", "system", "expected", "max_tokens"}
_CHECKS = ("exact", "contains", "regex")


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            f"invalid suite name {name!r}: 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter"
        )
    return name


def _check_model(model: object) -> str:
    if not isinstance(model, str) or not model.strip() or len(model) > 200:
        raise InvalidInputError("'model' must name a model, combo or alias (one word)")
    if any(c.isspace() for c in model.strip()):
        raise InvalidInputError(f"model {model!r} must be one word, such as 'openai/gpt-4o'")
    return model.strip()


def _check_expected(where: str, expected: object) -> dict[str, Any]:
    if not isinstance(expected, dict) or not any(k in expected for k in _CHECKS):
        raise InvalidInputError(f"{where}: 'expected' needs one of exact, contains, regex")
    unknown = sorted(set(expected) - {*_CHECKS, "ignore_case"})
    if unknown:
        raise InvalidInputError(f"{where}: unknown check {', '.join(unknown)}")
    clean: dict[str, Any] = {}
    if "exact" in expected:
        if not isinstance(expected["exact"], str):
            raise InvalidInputError(f"{where}: 'exact' must be a string")
        clean["exact"] = expected["exact"]
    if "contains" in expected:
        value = expected["contains"]
        values = [value] if isinstance(value, str) else value
        if (
            not isinstance(values, list)
            or not values
            or any(not isinstance(v, str) or not v for v in values)
        ):
            raise InvalidInputError(f"{where}: 'contains' must be a string or a list of strings")
        clean["contains"] = values
    if "regex" in expected:
        pattern = expected["regex"]
        if not isinstance(pattern, str) or not pattern or len(pattern) > 1000:
            raise InvalidInputError(f"{where}: 'regex' must be a pattern of 1-1000 characters")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInputError(f"{where}: 'regex' does not compile: {exc}") from None
        clean["regex"] = pattern
    ignore = expected.get("ignore_case", False)
    if not isinstance(ignore, bool):
        raise InvalidInputError(f"{where}: 'ignore_case' must be true or false")
    if ignore:
        clean["ignore_case"] = True
    return clean


def check_cases(cases: object) -> list[dict[str, Any]]:
    """The cases of a suite, validated and normalised."""
    if not isinstance(cases, list) or not 1 <= len(cases) <= MAX_CASES:
        raise InvalidInputError(f"'cases' must be a list of 1 to {MAX_CASES} cases")
    clean: list[dict[str, Any]] = []
    for number, case in enumerate(cases, 1):
        where = f"case {number}"
        if not isinstance(case, dict):
            raise InvalidInputError(f"{where} must be an object with 'prompt' and 'expected'")
        unknown = sorted(set(case) - _CASE_FIELDS)
        if unknown:
            raise InvalidInputError(f"{where}: unknown field {', '.join(unknown)}")
        prompt = case.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > MAX_PROMPT:
            raise InvalidInputError(f"{where}: 'prompt' must be 1 to {MAX_PROMPT} characters")
        entry: dict[str, Any] = {"name": f"case {number}", "prompt": prompt}
        name = case.get("name")
        if name is not None:
            if not isinstance(name, str) or not name.strip() or len(name) > 200:
                raise InvalidInputError(f"{where}: 'name' must be 1 to 200 characters")
            entry["name"] = name.strip()
        system = case.get("system")
        if system is not None:
            if not isinstance(system, str) or len(system) > MAX_PROMPT:
                raise InvalidInputError(f"{where}: 'system' must be a string")
            entry["system"] = system
        tokens = case.get("max_tokens")
        if tokens is not None:
            if isinstance(tokens, bool) or not isinstance(tokens, int) or not 1 <= tokens <= 1e6:
                raise InvalidInputError(f"{where}: 'max_tokens' must be a whole number above 0")
            entry["max_tokens"] = tokens
        entry["expected"] = _check_expected(where, case.get("expected"))
        clean.append(entry)
    return clean


def grade(expected: dict[str, Any], output: str) -> list[dict[str, Any]]:
    """Each check of ``expected`` against ``output``, with whether it passed."""
    fold = expected.get("ignore_case", False)
    text = output.casefold() if fold else output
    checks: list[dict[str, Any]] = []
    if "exact" in expected:
        want = expected["exact"].casefold() if fold else expected["exact"]
        checks.append({"check": "exact", "value": expected["exact"],
                       "passed": text.strip() == want.strip()})  # fmt: skip
    for value in expected.get("contains", []):
        found = (value.casefold() if fold else value) in text
        checks.append({"check": "contains", "value": value, "passed": found})
    if "regex" in expected:
        flags = re.IGNORECASE if fold else 0
        matched = re.search(expected["regex"], output, flags) is not None
        checks.append({"check": "regex", "value": expected["regex"], "passed": matched})
    return checks


def suite_ident(value: int | str) -> int | str:
    """A suite id (digits) or name from a path segment or argument."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else text


def _summary(run: repo.RunRow) -> dict[str, Any]:
    return {
        "id": run.id,
        "model": run.model,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "total": run.total,
        "passed": run.passed,
        "pass_rate": round(run.pass_rate, 4),
        "latency_ms": None if run.latency_ms is None else round(run.latency_ms, 1),
    }


def describe_run(run: repo.RunRow) -> dict[str, Any]:
    return {**_summary(run), "suite_id": run.suite_id, "results": run.results}


class EvalService:
    """Create, list, show and remove eval suites; record their runs."""

    def __init__(self, ctx: AdminContext, actor: str = "cli") -> None:
        self.ctx = ctx
        self.actor = actor

    def create(
        self, name: str, model: str, cases: list[Any], description: str | None = None
    ) -> dict[str, Any]:
        clean_name, clean_model = _check_name(name), _check_model(model)
        clean_cases = check_cases(cases)
        if description is not None and (not isinstance(description, str) or len(description)
                                        > 2000):  # fmt: skip
            raise InvalidInputError("'description' must be a string of at most 2000 characters")
        with self.ctx.db.transaction() as conn:
            if repo.get_suite(conn, clean_name) is not None:
                raise ConflictError(f"eval suite '{clean_name}' already exists")
            suite_id = repo.insert_suite(conn, clean_name, clean_model, description, clean_cases)
            audit.record(conn, self.actor, "eval.create", target=clean_name,
                         detail={"cases": len(clean_cases), "model": clean_model})  # fmt: skip
        return self.get(suite_id)

    def list_all(self) -> list[dict[str, Any]]:
        with self.ctx.db.session() as conn:
            out = []
            for suite in repo.list_suites(conn):
                runs = repo.list_runs(conn, suite.id, 1)
                out.append({**self._head(suite), "last_run": _summary(runs[0]) if runs else None})
        return out

    def get(self, ident: int | str) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            suite = self._row(conn, ident)
            runs = repo.list_runs(conn, suite.id, 20)
        return {
            **self._head(suite),
            "cases": suite.cases,
            "last_run": describe_run(runs[0]) if runs else None,
            "runs": [_summary(r) for r in runs],
        }

    def suite(self, ident: int | str) -> repo.SuiteRow:
        with self.ctx.db.session() as conn:
            return self._row(conn, ident)

    def remove(self, ident: int | str) -> dict[str, Any]:
        with self.ctx.db.transaction() as conn:
            suite = self._row(conn, ident)
            repo.delete_suite(conn, suite.id)
            audit.record(conn, self.actor, "eval.remove", target=suite.name)
        return {**self._head(suite), "removed": True}

    def record(
        self, suite_id: int, model: str, started_at: str, results: list[dict[str, Any]]
    ) -> dict[str, Any]:
        timed = [r["latency_ms"] for r in results if r.get("error") is None]
        latency = sum(timed) / len(timed) if timed else None
        with self.ctx.db.transaction() as conn:
            run_id = repo.insert_run(conn, suite_id, model, started_at, results, latency)
            run = repo.get_run(conn, run_id)
        assert run is not None
        return describe_run(run)

    @staticmethod
    def _head(suite: repo.SuiteRow) -> dict[str, Any]:
        return {
            "id": suite.id,
            "name": suite.name,
            "model": suite.model,
            "description": suite.description,
            "case_count": len(suite.cases),
            "created_at": suite.created_at,
            "updated_at": suite.updated_at,
        }

    @staticmethod
    def _row(conn: Any, ident: int | str) -> repo.SuiteRow:
        suite = repo.get_suite(conn, suite_ident(ident))
        if suite is None:
            raise NotFoundError(f"no eval suite {ident!r}", hint="see 'omni evals list'")
        return suite


def _answer_text(body: bytes) -> str:
    data = orjson.loads(body)
    message = data["choices"][0]["message"]
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def _error_text(body: bytes, status: int) -> str:
    try:
        error = orjson.loads(body).get("error")
        message = error.get("message") if isinstance(error, dict) else error
        return f"HTTP {status}: {message}" if message else f"HTTP {status}"
    except (orjson.JSONDecodeError, AttributeError):
        return f"HTTP {status}"


async def run_case(chat: Chat, model: str, index: int, case: dict[str, Any]) -> dict[str, Any]:
    """Send one case through ``chat`` and grade its answer."""
    messages = [{"role": "system", "content": case["system"]}] if case.get("system") else []
    messages.append({"role": "user", "content": case["prompt"]})
    request: dict[str, Any] = {"model": model, "messages": messages, "stream": False}
    if "max_tokens" in case:
        request["max_tokens"] = case["max_tokens"]
    started = time.perf_counter()
    output, error = "", None
    try:
        reply = await chat(orjson.dumps(request))
        if reply.status != 200 or reply.stream is not None:
            error = _error_text(reply.body, reply.status)
        else:
            output = _answer_text(reply.body)
    except OmniError as exc:
        error = exc.message
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
        error = "the answer was not an OpenAI chat completion"
    latency = (time.perf_counter() - started) * 1000
    checks = [] if error else grade(case["expected"], output)
    return {
        "index": index,
        "name": case["name"],
        "passed": error is None and all(c["passed"] for c in checks),
        "latency_ms": round(latency, 1),
        "output": output[:MAX_OUTPUT_KEPT],
        "error": error,
        "checks": checks,
    }


async def execute(
    service: EvalService,
    chat: Chat,
    ident: int | str,
    model: str | None,
    offload: Offload[Any],
    routable: Callable[[str], object],
) -> dict[str, Any]:
    """Run suite ``ident`` (against ``model`` instead of its own if given) and store the run.

    ``offload`` runs the store calls (on a worker thread in the server); ``routable``
    raises when omni cannot route the model at all, so that is one clear error."""
    suite: repo.SuiteRow = await offload(lambda: service.suite(ident))
    target = _check_model(model) if model is not None else suite.model
    routable(target)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    results = [await run_case(chat, target, i, case) for i, case in enumerate(suite.cases)]
    run: dict[str, Any] = await offload(lambda: service.record(suite.id, target, started, results))
    return run


@asynccontextmanager
async def standalone_chat(ctx: AdminContext) -> AsyncIterator[tuple[Chat, Callable[[str], object]]]:
    """A temporary in-process gateway on ``ctx``'s store (for the CLI without a server):
    its chat callable and its routability check."""
    from omni.gateway.pipeline import Gateway
    from omni.gateway.usage import UsageRecorder
    from omni.ir import Dialect
    from omni.providers.http import Upstream

    settings = ctx.settings
    http = Upstream(settings.connect_timeout, settings.stall_timeout)
    usage = UsageRecorder(ctx.db)
    usage.start()
    gateway = Gateway(settings, ctx.db, ctx.secrets, http, usage)
    gateway.reload()

    def chat(body: bytes) -> Awaitable[Reply]:
        return gateway.handle(Dialect.OPENAI_CHAT, body, endpoint="/api/evals/run")

    try:
        yield chat, gateway.registry.plan
    finally:
        await http.close()
        await usage.close()
        gateway.close()
