"""The case-filling rule, table-driven: firm first, then tolerance, oldest pledge first, full cases only,
leftovers reported. Pledges are (firm, tolerance) in queue order; the result is (cases, allocated, leftover)."""

from __future__ import annotations

import pytest

from buddybot.allocation import Pledge, allocate, cases_for, orderable_units

CASES = [
    # name, case size, pledges oldest first, cases, allocated per pledge, leftover per pledge
    ("nothing pledged", 6, [], 0, [], []),
    ("firm fills cases exactly", 6, [(4, 0), (2, 0), (6, 0)], 2, [4, 2, 6], [0, 0, 0]),
    ("singles: case size 1 orders everything", 1, [(3, 2), (5, 0)], 8, [3, 5], [0, 0]),
    ("remainder with no tolerance is left over, newest first", 6, [(4, 0), (5, 0)], 1, [4, 2], [0, 3]),
    ("tolerance completes the open case", 6, [(4, 0), (5, 3)], 2, [4, 8], [0, 0]),
    ("tolerance is used oldest pledge first", 6, [(2, 3), (2, 3), (2, 3), (1, 0)], 2, [5, 4, 2, 1], [0, 0, 0, 0]),
    ("firm before tolerance: a newer firm unit beats an older tolerance", 4, [(1, 3), (3, 0)], 1, [1, 3], [0, 0]),
    ("tolerance alone never orders a case", 6, [(0, 6)], 0, [0], [0]),
    ("tolerance short of a case: remainder left over", 6, [(4, 0), (4, 1)], 1, [4, 2], [0, 2]),
    ("a pledge cut at the case boundary: its tolerance unused", 5, [(3, 1), (4, 0)], 1, [3, 2], [0, 2]),
    ("many cases plus one completed by tolerance", 12, [(10, 0), (10, 0), (3, 0), (2, 11)], 3, [10, 10, 3, 13],
     [0, 0, 0, 0]),
    ("one unit short of completing: the newest firm unit is left over", 12, [(10, 0), (10, 0), (3, 0), (2, 9)],
     2, [10, 10, 3, 1], [0, 0, 0, 1]),
]  # fmt: skip


def _fix(rows: list[tuple[int, int]]) -> list[Pledge]:
    return [Pledge(user_id=i + 1, quantity=q, tolerance=t) for i, (q, t) in enumerate(rows)]


@pytest.mark.parametrize(
    ("name", "case_size", "rows", "cases", "allocated", "leftover"), CASES, ids=[c[0] for c in CASES]
)
def test_allocation_table(
    name: str,
    case_size: int,
    rows: list[tuple[int, int]],
    cases: int,
    allocated: list[int],
    leftover: list[int],
) -> None:
    result = allocate(_fix(rows), case_size)
    assert result.cases == cases, name
    got = [s.allocated for s in result.shares]
    assert got == allocated, name
    assert [s.leftover for s in result.shares] == leftover, name
    assert sum(got) == result.units == cases * case_size
    assert result.leftover == sum(leftover)
    for share in result.shares:
        assert share.allocated <= share.quantity + share.tolerance


def test_orderable_units_matches_allocation() -> None:
    """The post's progress (from totals alone) is what the deadline will order (from every pledge)."""
    for firm in range(0, 30):
        for tolerance in range(0, 8):
            for case in (1, 4, 6, 12):
                split = [
                    Pledge(1, firm // 2, tolerance // 2),
                    Pledge(2, firm - firm // 2, tolerance - tolerance // 2),
                ]
                assert orderable_units(firm, tolerance, case) == allocate(split, case).units
                assert firm - case < cases_for(firm, tolerance, case) * case <= firm + tolerance


def test_case_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        cases_for(3, 0, 0)
