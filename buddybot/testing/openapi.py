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
is either a union of consts or discriminated by JSON type (null vs object) or by the ``type`` property
(components, command options), so two branches can never both match a body. `_Unions` uses exactly that
to skip branches that cannot match, which makes a message with components ~3x faster to validate.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import relevance
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:discord:openapi"
_VERSION_PREFIX = re.compile(r"^/api/v\d+(?=/|$)")
_SCHEMAS = "#/components/schemas/"

# Discord: CHAT_INPUT command and option names must match ^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$
# (unicode flag) and use the lowercase variant of any letter that has one. Python's `re` has no \p{..}.
_NAME_PUNCTUATION = frozenset("-_'")
_SCRIPT_RANGES = (
    (0x0900, 0x097F),  # Devanagari
    (0xA8E0, 0xA8FF),  # Devanagari Extended
    (0x11B00, 0x11B5F),  # Devanagari Extended-A
    (0x0E00, 0x0E7F),  # Thai
)
CHAT_INPUT_NAME_RULE = (
    "CHAT_INPUT names must match ^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$ and be lowercase"
)


class DiscordSpecError(AssertionError):
    """Discord would refuse this request (or the route does not exist)."""


def _name_char_ok(ch: str) -> bool:
    if ch in _NAME_PUNCTUATION or unicodedata.category(ch)[0] in "LN":
        return True
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _SCRIPT_RANGES)


def is_chat_input_name(name: str) -> bool:
    """Whether Discord accepts `name` as a slash command, subcommand or option name."""
    return 1 <= len(name) <= 32 and all(map(_name_char_ok, name)) and name == name.lower()


def _chat_input_name(validator: Any, enabled: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if enabled and isinstance(instance, str) and not is_chat_input_name(instance):
        yield ValidationError(f"{instance!r} is not a valid command name: {CHAT_INPUT_NAME_RULE}")


# -- fast unions ------------------------------------------------------------------------------------
# jsonschema evaluates every branch of a oneOf/anyOf in full. Discord's component unions have 7 branches,
# each with a nested 6-branch union, and every `type` property also goes through a ~20-branch oneOf of
# consts: about 1 ms for a message with one button. The keywords below give exactly the same verdicts
# (same branch indices in schema paths, same "valid under each of" check) but skip branches that cannot
# match: a branch whose JSON type excludes the value, or whose `type` property enum excludes the value's
# `type`. A oneOf whose branches are all bare consts is decided by counting equal consts.
_JSON_TYPE_FOR = {type(None): "null", bool: "boolean", str: "string", list: "array", dict: "object"}


@dataclass(frozen=True)
class _Branch:
    types: frozenset[str] | None  # JSON types the branch accepts, None if not declared
    # Object properties constrained by a scalar enum/const (`type`, `trigger_type`, ...): (name, values)
    discriminators: tuple[tuple[str, tuple[Any, ...]], ...]
    required: frozenset[str]
    label: str

    def disjoint(self, other: _Branch) -> bool:
        """No value can match both branches (decided from JSON types and required discriminators)."""
        numeric = {"integer", "number"}
        if self.types is not None and other.types is not None:
            if not self.types & other.types and not (self.types & numeric and other.types & numeric):
                return True
        theirs = dict(other.discriminators)
        return any(
            name in self.required and name in other.required and not set(values) & set(theirs[name])
            for name, values in self.discriminators
            if name in theirs
        )

    def excludes(self, instance: Any) -> bool:
        """The branch certainly fails for `instance` (wrong JSON type, or a discriminator not in its enum)."""
        if self.types is not None:
            kind = _JSON_TYPE_FOR.get(type(instance))
            if kind is None and isinstance(instance, (int, float)):
                if not {"integer", "number"} & self.types:
                    return True
            elif kind is not None and kind not in self.types:
                return True
        if isinstance(instance, dict):
            for name, values in self.discriminators:
                if name in instance and instance[name] not in values:
                    return True
        return False

    def describe(self) -> str:
        return self.label + "".join(f" ({name} {list(values)})" for name, values in self.discriminators)


def _same(a: Any, b: Any) -> bool:
    """jsonschema's equality for scalars: booleans never equal numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


_CONST_KEYS = frozenset({"const", "title", "description"})


class _Unions:
    """Per-spec tables for the oneOf/anyOf fast path (keyed by the identity of the spec's lists)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._schemas = spec["components"]["schemas"]
        self._branches: dict[int, tuple[list[Any], list[_Branch]]] = {}
        self._consts: dict[int, tuple[list[Any], list[Any] | None]] = {}

    def _branch(self, subschema: Any) -> _Branch:
        target, label = subschema, "inline schema"
        ref = subschema.get("$ref", "") if isinstance(subschema, dict) else ""
        if ref.startswith(_SCHEMAS) and "/" not in ref[len(_SCHEMAS) :]:
            label = ref[len(_SCHEMAS) :]
            target = self._schemas.get(label, {})
        elif ref or not isinstance(subschema, dict):
            return _Branch(None, (), frozenset(), label)
        declared = target.get("type")
        types = frozenset([declared] if isinstance(declared, str) else declared) if declared else None
        discriminators = []
        if types == frozenset({"object"}):
            for name, prop in target.get("properties", {}).items():
                values = prop.get("enum", [prop["const"]] if "const" in prop else None)
                if values and all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in values):
                    discriminators.append((name, tuple(values)))
        if types is not None and label == "inline schema":
            label = "/".join(sorted(types))
        return _Branch(types, tuple(discriminators), frozenset(target.get("required", ())), label)

    def branches(self, union: list[Any]) -> list[_Branch]:
        found = self._branches.get(id(union))
        if found is None:
            found = self._branches[id(union)] = (union, [self._branch(s) for s in union])
        return found[1]

    def consts(self, union: list[Any]) -> list[Any] | None:
        found = self._consts.get(id(union))
        if found is None:
            values = None
            if all(isinstance(s, dict) and "const" in s and s.keys() <= _CONST_KEYS for s in union):
                values = [s["const"] for s in union]
                if not all(v is None or isinstance(v, (int, float, str)) for v in values):
                    values = None
            found = self._consts[id(union)] = (union, values)
        return found[1]

    def candidates(self, union: list[Any], instance: Any) -> tuple[list[tuple[int, Any]], list[_Branch]]:
        branches = self.branches(union)
        keep = [
            (i, s) for i, (s, b) in enumerate(zip(union, branches, strict=True)) if not b.excludes(instance)
        ]
        return keep, branches

    def nothing_fits(self, instance: Any, branches: list[_Branch]) -> ValidationError:
        names = {name for b in branches for name, _ in b.discriminators}
        shown = {k: v for k, v in instance.items() if k in names} if isinstance(instance, dict) else {}
        what = (
            "object with " + ", ".join(f"{k}={v!r}" for k, v in shown.items()) if shown else _short(instance)
        )
        expected = ", ".join(b.describe() for b in branches)
        return ValidationError(f"{what} fits none of the allowed kinds: {expected}")

    def one_of(
        self, validator: Any, union: list[Any], instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        consts = self.consts(union)
        if consts is not None:
            matches = sum(_same(instance, c) for c in consts)
            if matches == 0:
                yield ValidationError(f"{_short(instance)} is not one of {consts}")
            elif matches > 1:
                yield ValidationError(f"{_short(instance)} is valid under each of {matches} consts")
            return
        keep, branches = self.candidates(union, instance)
        if not keep:
            yield self.nothing_fits(instance, branches)
            return
        remaining = iter(keep)
        all_errors: list[ValidationError] = []
        for index, subschema in remaining:
            errs = list(validator.descend(instance, subschema, schema_path=index))
            if not errs:
                first_valid = subschema
                break
            all_errors.extend(errs)
        else:
            yield ValidationError(
                f"{_short(instance)} is not valid under any of the given schemas", context=all_errors
            )
            return
        more_valid = [each for _, each in remaining if validator.evolve(schema=each).is_valid(instance)]
        if more_valid:
            more_valid.append(first_valid)
            reprs = ", ".join(_short(each) for each in more_valid)
            yield ValidationError(f"{_short(instance)} is valid under each of {reprs}")

    def any_of(
        self, validator: Any, union: list[Any], instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        keep, branches = self.candidates(union, instance)
        if not keep:
            yield self.nothing_fits(instance, branches)
            return
        all_errors: list[ValidationError] = []
        for index, subschema in keep:
            errs = list(validator.descend(instance, subschema, schema_path=index))
            if not errs:
                return
            all_errors.extend(errs)
        yield ValidationError(
            f"{_short(instance)} is not valid under any of the given schemas", context=all_errors
        )


def _validator_class(unions: _Unions, *, fast_unions: bool = True) -> Any:
    keywords: dict[str, Any] = {"x-buddybot-chat-input-name": _chat_input_name}
    if fast_unions:
        keywords.update(oneOf=unions.one_of, anyOf=unions.any_of)
    return validators.extend(Draft202012Validator, validators=keywords)


# -- tightening the spec where Discord is stricter than its description -------------------------------
def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    try:
        return spec["components"]["schemas"][name]
    except KeyError:
        raise RuntimeError(
            f"openapi.py overlay: schema {name!r} is gone from the spec; review _adjust_spec"
        ) from None


def _adjust_spec(spec: dict[str, Any]) -> None:
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


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    size = len(value) if isinstance(value, str) else len(text)
    return text if len(text) <= limit else f"{text[: limit - 15]}… ({size} chars)"


def _describe(error: ValidationError) -> str:
    kw, limit, inst = error.validator, error.validator_value, error.instance
    if kw in ("maxLength", "minLength") and isinstance(inst, str):
        return f"string of length {len(inst)} violates {kw}={limit}: {_short(inst, 40)}"
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

    def __init__(self, spec: dict[str, Any], *, fast_unions: bool = True) -> None:
        _adjust_spec(spec)
        self.document = spec
        self._cls = _validator_class(_Unions(spec), fast_unions=fast_unions)
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
        self._param_validators: dict[tuple[str, str], Any] = {}

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
        unions = _Unions(self.document)
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

    def _check_params(self, where: str, template: str, params: dict[str, str]) -> None:
        item = self.document["paths"][template]
        declared = [p for p in item.get("parameters", []) if p.get("in") == "path"]
        for param in declared:
            name = param["name"]
            key = (template, name)
            if key not in self._param_validators:
                index = item["parameters"].index(param)
                self._param_validators[key] = self._validator(
                    _pointer("paths", template, "parameters", str(index), "schema")
                )
            validator = self._param_validators[key]
            raw = params.get(name, "")
            value: Any = int(raw) if _is_integer_param(param) and raw.isdigit() else raw
            error = _most_relevant(validator.iter_errors(value))
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
                raise DiscordSpecError(f"{where}: this route takes no JSON body, got {_short(body)}")
            return
        validator, required = found
        if body is None:
            if required:
                raise DiscordSpecError(f"{where}: a JSON body is required")
            return
        error = _most_relevant(validator.iter_errors(body))
        if error is not None:
            at = "body" + _json_path(error.absolute_path)[1:]
            schema_path = "/".join(map(str, error.absolute_schema_path))
            raise DiscordSpecError(f"{where}: {at}: {_describe(error)} (schema: {schema_path})")


def _is_integer_param(param: dict[str, Any]) -> bool:
    return param.get("schema", {}).get("type") == "integer"


@functools.lru_cache(maxsize=8)
def _load(path: Path) -> DiscordSpec:
    with path.open(encoding="utf-8") as fh:
        return DiscordSpec(json.load(fh))
