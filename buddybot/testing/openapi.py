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

`_FastPath` makes validation 5-30x faster than stock jsonschema keywords with identical verdicts;
``DiscordSpec(spec, fast=False)`` validates with the stock keywords.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
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


_MEMO_SIZE = 1 << 16  # entries of ~100 bytes: a few MB at most


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


# -- the fast path ---------------------------------------------------------------------------------
# Stock jsonschema evaluates every branch of a oneOf/anyOf in full and re-resolves every $ref. Discord's
# component unions have 7 branches, each with a nested 6-branch union, and every `type` property goes
# through a ~20-branch oneOf of consts: ~6 ms for a message with a few buttons and an embed. `_FastPath`
# replaces four keywords with versions that give exactly jsonschema's verdicts and error locations
# (test_openapi.py compares them on thousands of mutated bodies):
# * oneOf/anyOf skip branches that certainly fail (the value's JSON type is not the branch's, or one of
#   its enum-constrained properties such as `type` has another value); a oneOf of bare consts is a lookup;
# * $ref lookups are cached, and so is "value V is valid against $ref R" (spec has no $id, no dynamic refs,
#   no unevaluated*: the verdict depends on nothing else). Repeated embeds, buttons and options are free;
# * properties checks leaf schemas (type/min/max/pattern/enum) in plain Python and only descends into
#   jsonschema when that check does not pass, so the error comes from jsonschema itself.
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
# Leaf schemas that `_FastPath.properties` checks in plain Python (exactly as jsonschema would, for scalars).
_LEAF_KEYS = frozenset(
    {
        "type",
        "maxLength",
        "minLength",
        "minimum",
        "maximum",
        "pattern",
        "enum",
        "allOf",
        "format",
        "title",
        "description",
    }
)
_SCALARS = (type(None), bool, int, float, str)


def _type_ok(value: Any, names: Iterable[str]) -> bool:
    kind = type(value)
    for name in names:
        if (
            (name == "null" and value is None)
            or (name == "boolean" and kind is bool)
            or (name == "string" and kind is str)
            or (name == "number" and kind in (int, float))
            or (name == "integer" and (kind is int or (kind is float and value.is_integer())))
        ):
            return True
    return False


def _has_ids(document: Any) -> bool:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "$id" in node or "$anchor" in node or "$dynamicAnchor" in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _memo_key(ref: str, instance: Any) -> tuple[str, Any, Any] | None:
    if (
        instance is None
        or isinstance(instance, (int, float))
        or (isinstance(instance, str) and len(instance) <= 64)
    ):
        return ref, type(instance), instance  # type() keeps True apart from 1
    try:
        text = json.dumps(instance, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return ref, "json", hashlib.blake2b(text.encode(), digest_size=16).digest()


class _FastPath:
    """Per-spec tables and keyword functions of the fast path (tables keyed by identity of spec nodes)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._schemas = spec["components"]["schemas"]
        self._branches: dict[int, tuple[list[Any], list[_Branch]]] = {}
        self._consts: dict[int, tuple[list[Any], tuple[list[Any], frozenset[Any] | None] | None]] = {}
        self._refs: dict[str, Any] = {}
        self._leaves: dict[int, tuple[Any, Callable[[Any], bool] | None]] = {}
        self._valid: set[tuple[str, Any, Any]] = set()  # (ref, value key) known to be valid
        self._cache_refs = not _has_ids(spec)

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

    def consts(self, union: list[Any]) -> tuple[list[Any], frozenset[Any] | None] | None:
        """For a oneOf of bare consts: the consts, and a set of them when membership is exact."""
        found = self._consts.get(id(union))
        if found is None:
            values = None
            if all(isinstance(s, dict) and "const" in s and s.keys() <= _CONST_KEYS for s in union):
                values = [s["const"] for s in union]
                if not all(v is None or isinstance(v, (int, float, str)) for v in values):
                    values = None
            lookup = None
            if values is not None and all(
                isinstance(v, (int, str)) and not isinstance(v, bool) for v in values
            ):
                lookup = frozenset(values) if len(set(values)) == len(values) else None
            found = self._consts[id(union)] = (union, None if values is None else (values, lookup))
        return found[1]

    def ref(self, validator: Any, ref: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
        # The spec has no $id/$anchor (checked in __init__), so a fragment ref always means the same
        # place in the spec document: its lookup can be cached, and so can "this value is valid there"
        # (the verdict depends on nothing else: the spec has no unevaluated* keywords or dynamic refs).
        # Bots resend the same embeds, buttons and command options all the time; those hit the memo.
        if not self._cache_refs or not (ref.startswith("#") or ref.startswith(SPEC_URI + "#")):
            resolved = validator._resolver.lookup(ref)
            return validator.descend(instance, resolved.contents, resolver=resolved.resolver)
        memo = _memo_key(ref, instance)
        if memo is not None and memo in self._valid:
            return iter(())
        resolved = self._refs.get(ref)
        if resolved is None:
            resolved = self._refs[ref] = validator._resolver.lookup(ref)
        errors = list(validator.descend(instance, resolved.contents, resolver=resolved.resolver))
        if not errors and memo is not None and len(self._valid) < _MEMO_SIZE:
            self._valid.add(memo)
        return iter(errors)

    def leaf(self, subschema: Any) -> Callable[[Any], bool] | None:
        """A check that returns True only if jsonschema would find no error (False: go and look)."""
        found = self._leaves.get(id(subschema))
        if found is None:
            found = self._leaves[id(subschema)] = (subschema, self._compile_leaf(subschema))
        return found[1]

    def _compile_leaf(self, sub: Any) -> Callable[[Any], bool] | None:
        if not isinstance(sub, dict) or not sub.keys() <= _LEAF_KEYS:
            return None
        declared = sub.get("type")
        types = [declared] if isinstance(declared, str) else declared
        enum = sub.get("enum")
        if enum is not None and not all(isinstance(e, _SCALARS) for e in enum):
            return None
        refs = []
        for part in sub.get("allOf", ()):
            if not (isinstance(part, dict) and part.keys() == {"$ref"} and part["$ref"].startswith("#")):
                return None
            refs.append(part["$ref"])
        if refs and not self._cache_refs:
            return None
        pattern = re.compile(sub["pattern"]) if "pattern" in sub else None
        min_len, max_len = sub.get("minLength"), sub.get("maxLength")
        low, high = sub.get("minimum"), sub.get("maximum")

        def check(value: Any) -> bool:
            kind = type(value)
            if kind not in _SCALARS or (types is not None and not _type_ok(value, types)):
                return False
            if kind is str and (
                (min_len is not None and len(value) < min_len)
                or (max_len is not None and len(value) > max_len)
                or (pattern is not None and not pattern.search(value))
            ):
                return False
            if kind in (int, float) and (
                (low is not None and value < low) or (high is not None and value > high)
            ):
                return False
            if enum is not None and not any(_same(value, e) for e in enum):
                return False
            return all(_memo_key(ref, value) in self._valid for ref in refs)  # proven valid before

        return check

    def properties(
        self, validator: Any, properties: Any, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        if not isinstance(instance, dict):
            return
        for name, subschema in properties.items():
            if name in instance:
                check = self.leaf(subschema)
                if check is not None and check(instance[name]):
                    continue
                yield from validator.descend(instance[name], subschema, path=name, schema_path=name)

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
        known = self.consts(union)
        if known is not None:
            consts, lookup = known
            if lookup is not None:
                exact = isinstance(instance, (int, float, str)) and not isinstance(instance, bool)
                matches = int(exact and instance in lookup)
            else:
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


def _validator_class(fast_path: _FastPath, *, fast: bool = True) -> Any:
    keywords: dict[str, Any] = {"x-buddybot-chat-input-name": _chat_input_name}
    if fast:
        keywords.update(
            {
                "oneOf": fast_path.one_of,
                "anyOf": fast_path.any_of,
                "$ref": fast_path.ref,
                "properties": fast_path.properties,
            }
        )
    return validators.extend(Draft202012Validator, validators=keywords)


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

    def __init__(self, spec: dict[str, Any], *, fast: bool = True) -> None:
        _adjust_spec(spec)
        self.document = spec
        self._fast = _FastPath(spec)
        self._cls = _validator_class(self._fast, fast=fast)
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
        unions = _FastPath(self.document)
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
                raise DiscordSpecError(f"{where}: this route takes no JSON body, got {_short(body)}")
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
