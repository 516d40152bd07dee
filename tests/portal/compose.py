"""docker-compose.yml as the tests read it: parsed with PyYAML (anchors and `<<` merge keys
included) and interpolated the way Compose does, from a given environment instead of the
shell's, so that a test sees the defaults the file ships.

Compose's interpolation: `$$` is a literal `$`; `${VAR}` / `$VAR`; `${VAR:-default}` (unset or
empty), `${VAR-default}` (unset); `${VAR:?message}` / `${VAR?message}` (required);
`${VAR:+other}` / `${VAR+other}`; defaults may themselves hold `${...}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class InterpolationError(ValueError):
    """A required variable (`${VAR:?message}`) is missing, or a `${` is never closed."""


def load(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def interpolate(text: str, env: Mapping[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _closing_brace(text, i + 2)
            out.append(_expand(text[i + 2 : end], env))
            i = end + 1
        else:
            name = _NAME.match(text, i + 1)
            if name is None:
                out.append("$")
                i += 1
            else:
                out.append(env.get(name.group(0), ""))
                i = name.end()
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise InterpolationError(f"unclosed ${{ in {text!r}")


def _expand(expr: str, env: Mapping[str, str]) -> str:
    name = _NAME.match(expr)
    if name is None:
        raise InterpolationError(f"bad variable expression ${{{expr}}}")
    var, rest = name.group(0), expr[name.end() :]
    value = env.get(var)
    if not rest:
        return value or ""
    colon = rest.startswith(":")
    op, arg = (rest[1], rest[2:]) if colon else (rest[0], rest[1:])
    missing = value is None or (colon and value == "")
    if op == "-":
        return interpolate(arg, env) if missing else value
    if op == "?":
        if missing:
            raise InterpolationError(f"{var}: {interpolate(arg, env)}")
        return value
    if op == "+":
        return "" if missing else interpolate(arg, env)
    raise InterpolationError(f"bad variable expression ${{{expr}}}")


def _resolved(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, list):
        return [_resolved(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _resolved(v, env) for k, v in value.items()}
    return value


def service(name: str, env: Mapping[str, str], compose: dict[str, Any] | None = None) -> dict:
    """One service, every string interpolated from `env` (as Compose does with .env)."""
    return _resolved((compose or load())["services"][name], env)


def command(name: str, env: Mapping[str, str], compose: dict[str, Any] | None = None) -> list[str]:
    cmd = service(name, env, compose).get("command") or []
    return cmd.split() if isinstance(cmd, str) else list(cmd)


def environment(
    name: str, env: Mapping[str, str], compose: dict[str, Any] | None = None
) -> dict[str, str]:
    values = service(name, env, compose).get("environment") or {}
    if isinstance(values, list):
        values = dict(item.split("=", 1) for item in values)
    return {k: "" if v is None else str(v) for k, v in values.items()}


def option(cmd: list[str], flag: str) -> str | None:
    """The value of `--flag=value` (or `--flag value`) in a command line."""
    for i, arg in enumerate(cmd):
        if arg.startswith(f"{flag}="):
            return arg.split("=", 1)[1]
        if arg == flag and i + 1 < len(cmd):
            return cmd[i + 1]
    return None


def worker_queues(env: Mapping[str, str] | None = None) -> dict[str, set[str]]:
    """service -> the queues its `celery worker --queues=...` consumes (defaults resolved)."""
    compose = load()
    result: dict[str, set[str]] = {}
    for name in compose["services"]:
        cmd = command(name, env or {"SECRET_KEY": "x"}, compose)
        if "celery" in cmd[:1] and "worker" in cmd:
            queues = option(cmd, "--queues") or option(cmd, "-Q") or "celery"
            result[name] = set(queues.split(","))
    return result
