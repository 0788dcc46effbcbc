"""Check request bodies against Discord's own OpenAPI 3.1 description, the way Discord's API would.

The vendored spec (tests/discord_api/openapi.json, MIT) is loaded once per path. Each request is matched
to its path template, then its JSON body is validated with jsonschema's Draft 2020-12 validator against
the operation's ``application/json`` request schema; ``#/components/...`` references resolve inside the
spec document through a ``referencing.Registry``.

Where the spec and Discord disagree in ways that matter to a bot, `_adjust_spec` patches the parsed
spec, each patch citing Discord's documented rule and failing loudly if a newer spec moved its target:

* ``SnowflakeType`` is a string with a digits pattern; Discord also accepts JSON integers, and
  discord.py sends them (``message_reference`` ids, ``allowed_mentions`` users/roles, ``attachments[].id``
  as the file index). Integers in 0..2**64-1 are allowed; strings keep the pattern.
* Message ``content`` on channel create/edit says ``maxLength: 4000`` (the Nitro limit for user accounts);
  bots get 2000, so it is tightened (the webhook and interaction schemas already say 2000).
* CHAT_INPUT command and option names have only ``minLength``/``maxLength``; Discord also requires
  ``^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`` and lowercase letters where a lowercase
  variant exists. That runs as the extra keyword ``x-buddybot-chat-input-name``, on command names only
  when ``type`` is absent or 1 (user/message context menus may use spaces and capitals).

No ``oneOf`` is weakened. The spec writes its overlapping unions (interaction callback bodies, autocomplete
choices, webhook execute) as ``anyOf`` marked ``x-discord-union: oneOf``; every request-side ``oneOf`` left
is either a union of consts or discriminated by JSON type (null vs object) or by a required enum
property (``type`` of components and command options, ``trigger_type``, ``entity_type``), so two branches can never both match a body (`ambiguous_unions` checks).

`openapi_fast.FastPath` makes validation 5-30x faster than stock jsonschema keywords with identical verdicts;
``DiscordSpec(spec, fast=False)`` validates with the stock keywords.
"""

from __future__ import annotations

import functools
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import ValidationError
from jsonschema.exceptions import relevance
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from buddybot.testing.openapi_fast import (
    CHAT_INPUT_NAME_RULE,
    SCHEMAS,
    SPEC_URI,
    DiscordSpecError,
    FastPath,
    is_chat_input_name,
    short,
    validator_class,
)

__all__ = ["CHAT_INPUT_NAME_RULE", "DiscordSpec", "DiscordSpecError", "is_chat_input_name"]

_VERSION_PREFIX = re.compile(r"^/api/v\d+(?=/|$)")
_SCHEMAS = SCHEMAS


# -- where Discord and its description disagree --------------------------------------------------------
def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    try:
        return spec["components"]["schemas"][name]
    except KeyError:
        raise RuntimeError(
            f"openapi.py overlay: schema {name!r} is gone from the spec; review _adjust_spec"
        ) from None


def _adjust_spec(spec: dict[str, Any]) -> None:
    """Patch the parsed spec in place (once: the document is marked)."""
    if spec.get("x-buddybot-adjusted"):
        return
    spec["x-buddybot-adjusted"] = True
    # Snowflakes: the spec allows only strings, but Discord also accepts JSON integers and discord.py
    # sends them (message_reference ids, allowed_mentions users/roles, attachments[].id = file index).
    # Strings keep their pattern; integers must be unsigned 64-bit.
    snowflake = _schema(spec, "SnowflakeType")
    if snowflake.get("type") != "string" or "pattern" not in snowflake:
        raise RuntimeError("openapi.py overlay: SnowflakeType changed shape; review _adjust_spec")
    snowflake.update(type=["string", "integer"], minimum=0, maximum=2**64 - 1)

    # Bots may send at most 2000 characters of content (4000 is the Nitro limit for user accounts).
    for name in ("MessageCreateRequest", "MessageEditRequestPartial"):
        content = _schema(spec, name)["properties"]["content"]
        if content.get("maxLength", 2000) > 2000:
            content["maxLength"] = 2000

    # Names of CHAT_INPUT commands, subcommands, groups and options. (A PATCH of one command carries no
    # `type`, so it cannot tell a slash command from a context menu: ApplicationCommandPatchRequestPartial
    # is left as the spec has it.)
    rule = {"x-buddybot-chat-input-name": True}
    for name in ("ApplicationCommandCreateRequest", "ApplicationCommandUpdateRequest"):
        schema = _schema(spec, name)
        if "if" in schema or "name" not in schema["properties"] or "type" not in schema["properties"]:
            raise RuntimeError(f"openapi.py overlay: {name} changed shape; review _adjust_spec")
        # Context menus (type 2, 3) and entry points (4) may use spaces and capitals.
        schema["if"] = {"properties": {"type": {"enum": [None, 1]}}}
        schema["then"] = {"properties": {"name": rule}}
    options = [n for n in spec["components"]["schemas"] if re.fullmatch(r"ApplicationCommand\w+Option", n)]
    if len(options) < 11:
        raise RuntimeError(
            "openapi.py overlay: application command option schemas moved; review _adjust_spec"
        )
    for name in options:
        properties = _schema(spec, name)["properties"]
        properties["name"] = {**properties["name"], **rule}


# -- routing ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Template:
    path: str
    segments: tuple[str | None, ...]  # None for a {parameter}
    params: tuple[tuple[int, str], ...]  # (segment index, parameter name)

    @property
    def specificity(self) -> tuple[bool, ...]:
        # Literal segments beat parameters, leftmost first: .../messages/@original over .../{message_id}.
        return tuple(s is not None for s in self.segments)


def _split(path: str) -> list[str]:
    return path.strip("/").split("/")


def _pointer(*parts: str) -> str:
    escaped = (p.replace("~", "~0").replace("/", "~1") for p in parts)
    return quote("/" + "/".join(escaped), safe="/~")


def _json_path(path: Iterable[Any]) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _describe(error: ValidationError) -> str:
    kw, limit, inst = error.validator, error.validator_value, error.instance
    if kw in ("maxLength", "minLength") and isinstance(inst, str):
        return f"string of length {len(inst)} violates {kw}={limit}: {short(inst, 40)}"
    if kw in ("maxItems", "minItems") and isinstance(inst, list):
        return f"array of {len(inst)} items violates {kw}={limit}"
    message = error.message
    if len(message) > 300:
        message = message[:280] + f"… [{kw}]"
    return message


def _rejects_kind(error: ValidationError, depth: int) -> bool:
    """Did this branch of a union fail on the instance's kind (JSON type or its `type` discriminator)?"""
    rel = list(error.absolute_path)[depth:]
    if not rel and error.validator == "type":
        return True
    return rel == ["type"] and error.validator in ("enum", "const", "type")


def _most_relevant(errors: Iterable[ValidationError]) -> ValidationError | None:
    """Like jsonschema's best_match, but through oneOf/anyOf it follows the branch the body meant.

    A component union (ActionRow | Container | ...) fails every branch; the interesting failure is in
    the branch whose `type` discriminator (or JSON type) matched, e.g. a button label that is too long.
    """
    best = max(errors, key=relevance, default=None)
    while best is not None and best.context:
        candidates = best.context
        if best.validator in ("oneOf", "anyOf"):
            depth = len(best.absolute_path)
            branches: dict[Any, list[ValidationError]] = defaultdict(list)
            for err in candidates:
                branches[err.relative_schema_path[0]].append(err)
            meant = [errs for errs in branches.values() if not any(_rejects_kind(e, depth) for e in errs)]
            if not meant:
                break  # no branch fits the kind of value at all: report the union itself
            candidates = [e for errs in meant for e in errs]
        best = max(candidates, key=relevance)
    return best


# -- the spec ---------------------------------------------------------------------------------------
class DiscordSpec:
    """Discord's OpenAPI description, for validating the JSON bodies of requests."""

    def __init__(self, spec: dict[str, Any], *, fast: bool = True) -> None:
        _adjust_spec(spec)
        self.document = spec
        self._fast = FastPath(spec)
        self._cls = validator_class(self._fast, fast=fast)
        self.registry: Registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
        )
        self._by_shape: dict[int, list[_Template]] = defaultdict(list)
        for path in spec["paths"]:
            segs = tuple(None if s.startswith("{") else s for s in _split(path))
            params = tuple((i, s[1:-1]) for i, s in enumerate(_split(path)) if s.startswith("{"))
            self._by_shape[len(segs)].append(_Template(path, segs, params))
        for templates in self._by_shape.values():
            templates.sort(key=lambda t: t.specificity, reverse=True)
        self._body_validators: dict[tuple[str, str], tuple[Any, bool] | None] = {}
        self._param_validators: dict[str, list[tuple[str, Any, bool]]] = {}

    @classmethod
    def load(cls, path: str | Path) -> DiscordSpec:
        """Parse the spec at `path` (cached per resolved path: many harnesses share one spec)."""
        return _load(Path(path).resolve())

    # -- routing --------------------------------------------------------------------------------------
    def match(self, url_path: str) -> tuple[str, dict[str, str]]:
        """The spec's path template for a real path, and its path parameters."""
        path = _VERSION_PREFIX.sub("", url_path.split("?", 1)[0])
        segments = _split(path)
        for template in self._by_shape.get(len(segments), ()):  # most specific first
            if all(
                seg == lit if lit is not None else seg != ""
                for lit, seg in zip(template.segments, segments, strict=True)
            ):
                return template.path, {name: segments[i] for i, name in template.params}
        raise DiscordSpecError(f"unknown route {url_path!r}: no path in Discord's API matches it")

    def _operation(self, method: str, template: str) -> dict[str, Any]:
        item = self.document["paths"][template]
        op = item.get(method)
        if op is None:
            allowed = sorted(m.upper() for m in item if m != "parameters")
            raise DiscordSpecError(
                f"{method.upper()} {template}: method not allowed (Discord offers {', '.join(allowed)})"
            )
        return op

    def ambiguous_unions(self) -> list[str]:
        """Request-side ``oneOf`` unions whose branches are not provably exclusive.

        A body matching two branches of a ``oneOf`` fails validation even if both branches accept it, so
        such a union could refuse bodies Discord accepts. Empty for the vendored spec.
        """
        unions = FastPath(self.document)
        found: list[str] = []
        seen: set[str] = set()

        def walk(node: Any, where: str) -> None:
            if isinstance(node, list):
                for i, item in enumerate(node):
                    walk(item, f"{where}/{i}")
                return
            if not isinstance(node, dict):
                return
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_SCHEMAS) and ref not in seen:
                seen.add(ref)
                walk(_schema(self.document, ref[len(_SCHEMAS) :]), ref)
            union = node.get("oneOf")
            if isinstance(union, list) and unions.consts(union) is None:
                branches = unions.branches(union)
                if not all(a.disjoint(b) for i, a in enumerate(branches) for b in branches[i + 1 :]):
                    found.append(f"{where}/oneOf: {[b.label for b in branches]}")
            for key, value in node.items():
                if key not in ("$ref", "enum", "const", "examples", "default"):
                    walk(value, f"{where}/{key}")

        for path, item in self.document["paths"].items():
            for method, op in item.items():
                content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
                if "application/json" in content:
                    walk(content["application/json"]["schema"], f"{method.upper()} {path}")
        return found

    def _validator(self, pointer: str) -> Any:
        return self._cls({"$ref": SPEC_URI + "#" + pointer}, registry=self.registry)

    def _body_validator(self, method: str, template: str) -> tuple[Any, bool] | None:
        key = (method, template)
        if key not in self._body_validators:
            body = self._operation(method, template).get("requestBody")
            found = None
            if body is not None and "application/json" in body.get("content", {}):
                pointer = _pointer(
                    "paths", template, method, "requestBody", "content", "application/json", "schema"
                )
                found = (self._validator(pointer), bool(body.get("required")))
            self._body_validators[key] = found
        return self._body_validators[key]

    def _path_params(self, template: str) -> list[tuple[str, Any, bool]]:
        """(name, validator, is_integer) for each path parameter of a template."""
        found = self._param_validators.get(template)
        if found is None:
            found = []
            for index, param in enumerate(self.document["paths"][template].get("parameters", [])):
                if param.get("in") == "path":
                    validator = self._validator(
                        _pointer("paths", template, "parameters", str(index), "schema")
                    )
                    found.append((param["name"], validator, param.get("schema", {}).get("type") == "integer"))
            self._param_validators[template] = found
        return found

    def _check_params(self, where: str, template: str, params: dict[str, str]) -> None:
        for name, validator, is_integer in self._path_params(template):
            raw = params.get(name, "")
            error = _most_relevant(validator.iter_errors(int(raw) if is_integer and raw.isdigit() else raw))
            if error is not None:
                raise DiscordSpecError(
                    f"{where}: path parameter {name}={raw!r} is invalid: {_describe(error)}"
                )

    # -- validation -----------------------------------------------------------------------------------
    def validate_request(self, method: str, url_path: str, body: dict[str, Any] | list[Any] | None) -> None:
        """Raise DiscordSpecError if Discord would refuse this JSON body for this route."""
        template, params = self.match(url_path)
        method = method.lower()
        where = f"{method.upper()} {template} ({url_path})"
        self._check_params(where, template, params)
        found = self._body_validator(method, template)
        if found is None:
            if body:
                raise DiscordSpecError(f"{where}: this route takes no JSON body, got {short(body)}")
            return
        validator, required = found
        if body is None:
            if required:
                raise DiscordSpecError(f"{where}: a JSON body is required")
            return
        error = _most_relevant(validator.iter_errors(body))
        if error is None:
            return
        at = "body" + _json_path(error.absolute_path)[1:]
        schema_path = "/".join(map(str, error.absolute_schema_path))
        raise DiscordSpecError(f"{where}: {at}: {_describe(error)} (schema: {schema_path})")


@functools.lru_cache(maxsize=8)
def _load(path: Path) -> DiscordSpec:
    with path.open(encoding="utf-8") as fh:
        return DiscordSpec(json.load(fh))
