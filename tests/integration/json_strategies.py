"""Hypothesis strategies for request bodies: any JSON, and valid bodies spoiled.

`json_values` is any small JSON value. `spoiled(valid)` changes a valid body in one
to three places: a value replaced by a value of any other type, a key dropped, a
value nested deeply, a huge number, hostile text, null. A few of these cannot be
written by `json.dumps` (numbers of thousands of digits, nesting past its recursion
limit), so they are `Raw` JSON text, spliced in by `encode`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Raw:
    """JSON text sent as it is, in the place of a value."""

    text: str

    def __repr__(self) -> str:  # short, for hypothesis's reports of failing examples
        if len(self.text) <= 60:
            return f"Raw({self.text!r})"
        return f"Raw({self.text[:30]!r} ... {self.text[-10:]!r}, {len(self.text)} characters)"


def encode(value: Any) -> bytes:
    """`value` as the bytes of a JSON document, with each `Raw` spliced in as written.

    Non-ASCII text is sent as UTF-8; a lone surrogate as the bytes it would have
    (not valid UTF-8), so that a server meets that too."""
    raws: list[str] = []

    def marked(part: Any) -> Any:
        if isinstance(part, Raw):
            raws.append(part.text)
            return f"\x00raw{len(raws) - 1}\x00"
        if isinstance(part, dict):
            return {key: marked(item) for key, item in part.items()}
        if isinstance(part, list):
            return [marked(item) for item in part]
        return part

    text = json.dumps(marked(value), ensure_ascii=False)
    for n, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00raw{n}\x00"), raw, 1)
    return text.encode("utf-8", "surrogatepass")


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)

huge_numbers = st.sampled_from(
    [
        2**31,
        2**53 + 1,
        2**63,
        2**64,
        -(2**63) - 1,
        1.7976931348623157e308,
        Raw("1" + "0" * 40),
        Raw("-" + "9" * 400),
        Raw("1" + "0" * 5000),
        Raw("1e400"),
        Raw("-1e400"),
        Raw("1e-400"),
        Raw("0." + "0" * 500 + "1"),
    ]
)
hostile_text = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\ud800",  # a lone surrogate: not valid UTF-8 on the wire
        "\udfff",
        "\u202egnp.exe",
        "\ufeff",
        "\u2028\u2029",
        "🙂" * 50,
        "e" + "\u0301" * 1000,
        "<script>alert(1)</script>",
        "%s%n%x",
        "'; DROP TABLE records; --",
        "a" * 20_000,
    ]
) | st.text(min_size=1, max_size=30)
deeply_nested = st.sampled_from(
    [
        Raw(opener * depth + "0" + closer * depth)
        for depth in (199, 201, 1_000, 100_000)
        for opener, closer in (("[", "]"), ('{"a":', "}"))
    ]
)
# What a spoiled field may become: anything, or something chosen to hurt.
replacements = (
    json_values
    | huge_numbers
    | hostile_text
    | deeply_nested
    | st.none()
    | st.just({})
    | st.just([])
)


def locations(value: Any, at: Path = ()) -> list[Path]:
    """Every place in `value`, itself first, then (depth first) what it holds."""
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(locations(item, (*at, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(locations(item, (*at, index)))
    return found


def _parent(value: Any, at: Path) -> Any:
    for step in at[:-1]:
        value = value[step]
    return value


def _put(value: Any, at: Path, new: Any) -> Any:
    if not at:
        return new
    _parent(value, at)[at[-1]] = new
    return value


def _get(value: Any, at: Path) -> Any:
    return _parent(value, at)[at[-1]] if at else value


@st.composite
def spoiled(draw: st.DrawFn, valid: dict[str, Any]) -> Any:
    """`valid` changed in one to three places, each one of: replaced (by anything, a
    huge number, hostile text, deep nesting, null, an empty object or list), dropped,
    or wrapped in lists or objects many levels deep."""
    body: Any = copy.deepcopy(valid)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.sampled_from(locations(body)))
        change = draw(st.sampled_from(["replace", "drop", "wrap"]))
        if change == "replace":
            body = _put(body, at, draw(replacements))
        elif change == "drop" and at:
            del _parent(body, at)[at[-1]]
        elif change == "wrap":
            depth = draw(st.sampled_from([1, 2, 50, 150]))
            wrapped = _get(body, at)
            for _ in range(depth):
                wrapped = [wrapped] if draw(st.booleans()) else {"x": wrapped}
            body = _put(body, at, wrapped)
    return body


def request_bodies(valid: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """What a fuzzed endpoint is sent: a valid body, one spoiled, or any JSON at all."""
    examples = st.sampled_from(valid)
    anything = json_values | st.dictionaries(st.text(max_size=8), json_values) | deeply_nested
    return st.one_of(examples, *[examples.flatmap(spoiled)] * 6, anything)
