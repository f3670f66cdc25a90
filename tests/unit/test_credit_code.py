from __future__ import annotations

import pytest

from routing.credit_code import check_digit, credit_code_problem

# Fictional codes built with the GB 32100 check digit.
VALID = ["9164012152601815X7", "916401219083016637", "91640121131860916G", "916401213909960338"]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_pass(code: str) -> None:
    assert credit_code_problem(code) is None
    assert check_digit(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("91640121526018", "18 位"),
        ("9164012152601815X8", "校验位"),
        ("9164012152601815I7", "不允许"),
        ("9164O12152601815X7", "不允许"),
    ],
)
def test_invalid_codes_are_named(code: str, words: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None and words in problem
