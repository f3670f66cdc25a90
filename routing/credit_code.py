"""The unified social credit code (统一社会信用代码, GB 32100-2015)."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_digit(first17: str) -> str:
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """None for a valid code, else a Chinese sentence saying what is wrong."""
    value = code.strip().upper()
    if len(value) != 18:
        return f"统一社会信用代码应为 18 位，当前为 {len(value)} 位"
    bad = [ch for ch in value if ch not in ALPHABET]
    if bad:
        return f"统一社会信用代码含有不允许的字符：{''.join(sorted(set(bad)))}（不使用 I、O、Z、S、V）"
    if check_digit(value[:17]) != value[17]:
        return "统一社会信用代码校验位不正确，请核对"
    return None
