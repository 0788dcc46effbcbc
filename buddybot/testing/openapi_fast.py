"""A faster jsonschema for Discord's OpenAPI description: the same verdicts as the stock keywords.

Split from `openapi.py` (which loads the spec and routes requests); `DiscordSpec` builds its validator
class with `validator_class`. Also home to the CHAT_INPUT name rule the spec itself does not state.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

SPEC_URI = "urn:discord:openapi"
SCHEMAS = "#/components/schemas/"

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


def short(value: Any, limit: int = 80) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    size = len(value) if isinstance(value, str) else len(text)
    return text if len(text) <= limit else f"{text[: limit - 15]}… ({size} chars)"


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
# through a ~20-branch oneOf of consts: ~6 ms for a message with a few buttons and an embed. `FastPath`
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
# Leaf schemas that `FastPath.properties` checks in plain Python (exactly as jsonschema would, for scalars).
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


class FastPath:
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
        if ref.startswith(SCHEMAS) and "/" not in ref[len(SCHEMAS) :]:
            label = ref[len(SCHEMAS) :]
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
            "object with " + ", ".join(f"{k}={v!r}" for k, v in shown.items()) if shown else short(instance)
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
                yield ValidationError(f"{short(instance)} is not one of {consts}")
            elif matches > 1:
                yield ValidationError(f"{short(instance)} is valid under each of {matches} consts")
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
                f"{short(instance)} is not valid under any of the given schemas", context=all_errors
            )
            return
        more_valid = [each for _, each in remaining if validator.evolve(schema=each).is_valid(instance)]
        if more_valid:
            more_valid.append(first_valid)
            reprs = ", ".join(short(each) for each in more_valid)
            yield ValidationError(f"{short(instance)} is valid under each of {reprs}")

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
            f"{short(instance)} is not valid under any of the given schemas", context=all_errors
        )


def validator_class(fast_path: FastPath, *, fast: bool = True) -> Any:
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
