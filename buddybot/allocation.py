"""How a group buy's pledges become an order of full cases (the rule Foodsoft uses for case sizes).

Only full cases are ordered. Firm quantities open cases; tolerance ("I'd take up to 2 more") only
completes a case that firm quantities started, it never orders a case on its own. The units of the
cases are then handed out firm quantities first, then tolerance, each in pledge order (oldest first).
Firm units that do not fit into a full case are leftovers and reported, so nobody is surprised.
Pure functions, no I/O: tested table-driven in tests/test_allocation.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pledge:
    """One member's pledge, in queue order (the caller passes them oldest first)."""

    user_id: int
    quantity: int  # firm units
    tolerance: int = 0  # extra units they would take to complete a case


@dataclass(frozen=True)
class Share:
    user_id: int
    quantity: int
    tolerance: int
    allocated: int  # units they get

    @property
    def leftover(self) -> int:
        """Firm units asked for that did not fit into a full case."""
        return max(0, self.quantity - self.allocated)

    @property
    def from_tolerance(self) -> int:
        return max(0, self.allocated - self.quantity)


@dataclass(frozen=True)
class Allocation:
    case_size: int
    cases: int
    shares: tuple[Share, ...]

    @property
    def units(self) -> int:
        return self.cases * self.case_size

    @property
    def leftover(self) -> int:
        return sum(s.leftover for s in self.shares)


def cases_for(firm: int, tolerance: int, case_size: int) -> int:
    """Full cases the pledges fill: every case firm units fill, plus one more if tolerance completes it."""
    if case_size < 1:
        raise ValueError("case size must be at least 1")
    full, rest = divmod(firm, case_size)
    return full + (1 if rest and rest + tolerance >= case_size else 0)


def orderable_units(firm: int, tolerance: int, case_size: int) -> int:
    """What would be ordered if the buy closed now (progress and tier prices are measured on this)."""
    return cases_for(firm, tolerance, case_size) * case_size


def allocate(pledges: list[Pledge], case_size: int) -> Allocation:
    """Fill full cases from firm quantities first, then tolerance, oldest pledge first."""
    firm = sum(p.quantity for p in pledges)
    tolerance = sum(p.tolerance for p in pledges)
    cases = cases_for(firm, tolerance, case_size)
    remaining = cases * case_size
    given = []
    for p in pledges:  # firm quantities, in pledge order
        take = min(p.quantity, remaining)
        given.append(take)
        remaining -= take
    for i, p in enumerate(pledges):  # then tolerance, in pledge order, only for those fully served
        if remaining == 0:
            break
        if given[i] == p.quantity and p.tolerance:
            take = min(p.tolerance, remaining)
            given[i] += take
            remaining -= take
    assert remaining == 0, "cases are only ordered when firm units plus tolerance fill them"
    shares = tuple(Share(p.user_id, p.quantity, p.tolerance, g) for p, g in zip(pledges, given, strict=True))
    return Allocation(case_size=case_size, cases=cases, shares=shares)
