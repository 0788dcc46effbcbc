"""A group buy's terms: price tiers in integer minor units, money formatting, and the terms hash.

Prices are never floats: "16.00" is read with Decimal and stored as 1600 (pence); a price with more
decimals than the currency has is refused rather than silently rounded. Totals are integer products.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise

from buddybot.errors import BuddyError
from buddybot.text import clean_text

MAX_TIERS = 6
MAX_UNITS = 1_000_000
MAX_PRICE_MINOR = 100_000_000  # 1,000,000.00 per unit
LIMITS = {"product": 80, "supplier": 80, "unit": 40, "case_size": 7, "tiers": 200}
ZERO_DECIMAL = frozenset({"JPY", "KRW", "ISK", "CLP", "VND", "HUF"})
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
TIERS_EXAMPLE = "1+: 18.50, 20+: 16.00, 50+: 14.20"
_TIER = re.compile(r"(\d{1,7})\s*\+?\s*[:=@]\s*[^\d\s]{0,3}\s*(\d{1,9}(?:[.,]\d+)?)")
_BARE_PRICE = re.compile(r"[^\d\s]{0,3}\s*(\d{1,9}(?:[.,]\d+)?)")


def minor_digits(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else 2


def parse_price(text: str, currency: str) -> int:
    """'16.00' -> 1600 (minor units). More decimals than the currency has is an error, not a rounding."""
    digits = minor_digits(currency)
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise BuddyError(f"“{text[:20]}” isn't a price.") from None
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise BuddyError(f"Prices in {currency} have at most {digits} decimals (“{text[:20]}”).")
    amount = int(minor)
    if not 0 < amount <= MAX_PRICE_MINOR:
        raise BuddyError(f"A price must be more than zero (“{text[:20]}”).")
    return amount


def money(minor: int, currency: str) -> str:
    """1600, GBP -> '£16.00'; exact integer arithmetic, thousands separated."""
    digits = minor_digits(currency)
    sign = "-" if minor < 0 else ""
    major, rest = divmod(abs(minor), 10**digits)
    symbol = SYMBOLS.get(currency, f"{currency} ")
    return f"{sign}{symbol}{major:,}" + (f".{rest:0{digits}d}" if digits else "")


def plain_amount(minor: int, currency: str) -> str:
    """For CSV: '16.00' (no symbol, no separators), exact."""
    digits = minor_digits(currency)
    sign = "-" if minor < 0 else ""
    major, rest = divmod(abs(minor), 10**digits)
    return f"{sign}{major}" + (f".{rest:0{digits}d}" if digits else "")


def percent(part: int, whole: int) -> int:
    """Whole percent, rounded half up explicitly (integers only)."""
    if whole <= 0:
        return 0
    return int((Decimal(part * 100) / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


Tier = tuple[int, int]  # (from this many units, price per unit in minor units)


def parse_tiers(text: str, currency: str) -> tuple[Tier, ...]:
    """'1+: 18.50, 20+: 16.00' -> ((1, 1850), (20, 1600)). A bare price is one tier from 1 unit."""
    raw = text.strip()
    found = list(_TIER.finditer(raw))
    if not found:
        bare = _BARE_PRICE.fullmatch(raw)
        if bare is None:
            raise BuddyError(f"I couldn't read the price tiers. Write them like this: {TIERS_EXAMPLE}")
        return ((1, parse_price(bare[1], currency)),)
    leftover = _TIER.sub("", raw)
    if leftover.strip(" ,;/|\n"):
        raise BuddyError(f"I couldn't read all of the price tiers. Write them like this: {TIERS_EXAMPLE}")
    tiers = tuple((int(m[1]), parse_price(m[2], currency)) for m in found)
    if len(tiers) > MAX_TIERS:
        raise BuddyError(f"At most {MAX_TIERS} price tiers, please.")
    if tiers[0][0] != 1:
        raise BuddyError(f"The first tier must start at 1 unit (“1+: price”), e.g. {TIERS_EXAMPLE}")
    for (low, price), (high, cheaper) in pairwise(tiers):
        if high <= low:
            raise BuddyError("List the tiers from the smallest quantity up, e.g. " + TIERS_EXAMPLE)
        if cheaper > price:
            raise BuddyError("A bigger tier can't cost more per unit than a smaller one.")
    return tiers


def tier_for(tiers: tuple[Tier, ...], units: int) -> Tier:
    """The tier that applies to an order of `units` (the first tier for an empty order)."""
    current = tiers[0]
    for tier in tiers:
        if units >= tier[0]:
            current = tier
    return current


def next_tier(tiers: tuple[Tier, ...], units: int) -> Tier | None:
    """The tier after the one `units` is in (None at the top)."""
    return next((t for t in tiers if t[0] > max(units, tiers[0][0])), None)


def tiers_text(tiers: tuple[Tier, ...], currency: str) -> str:
    """Back to what an organiser types (for a pre-filled edit form)."""
    return ", ".join(f"{low}+: {plain_amount(price, currency)}" for low, price in tiers)


@dataclass(frozen=True)
class Terms:
    """What pledgers commit to; frozen at the first pledge."""

    product: str
    supplier: str
    unit: str
    case_size: int
    tiers: tuple[Tier, ...]
    target: int
    currency: str


@dataclass(frozen=True)
class TermsText:
    """The form as typed (strings), with the target from the command's option."""

    product: str
    supplier: str
    unit: str
    case_size: str
    tiers: str


def _whole(text: str, field: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise BuddyError(f"{field} must be a whole number (you typed “{text.strip()[:20]}”).") from None
    if not low <= value <= high:
        raise BuddyError(f"{field} must be between {low:,} and {high:,}.")
    return value


def clean_terms(raw: TermsText, target: int, currency: str) -> Terms:
    product = clean_text(raw.product, "product", LIMITS["product"], required=True)
    supplier = clean_text(raw.supplier, "supplier", LIMITS["supplier"], required=True)
    unit = clean_text(raw.unit, "unit", LIMITS["unit"], required=True)
    case_size = _whole(raw.case_size or "1", "Case size", 1, 10_000)
    tiers = parse_tiers(clean_text(raw.tiers, "price tiers", LIMITS["tiers"], required=True) or "", currency)
    if not 1 <= target <= MAX_UNITS:
        raise BuddyError(f"The target must be between 1 and {MAX_UNITS:,} units.")
    if target % case_size:
        cases = -(-target // case_size)
        raise BuddyError(
            f"Only full cases are ordered, so the target must be a multiple of the case size ({case_size}): "
            f"for example {cases * case_size} ({cases} cases)."
        )
    assert product and supplier and unit
    return Terms(product, supplier, unit, case_size, tiers, target, currency)


def terms_hash(terms: Terms) -> str:
    """SHA-256 of the canonical JSON of the terms (as agreements do): what a pledge is bound to."""
    canonical = {
        "product": terms.product, "supplier": terms.supplier, "unit": terms.unit,
        "case_size": terms.case_size, "tiers": [list(t) for t in terms.tiers], "target": terms.target,
        "currency": terms.currency,
    }  # fmt: skip
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def tiers_json(tiers: tuple[Tier, ...]) -> str:
    return json.dumps([list(t) for t in tiers], separators=(",", ":"))


def tiers_from_json(text: str) -> tuple[Tier, ...]:
    return tuple((int(low), int(price)) for low, price in json.loads(text))
