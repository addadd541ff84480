"""The console's JSON-schema code, run in the browser: validation and form round trips."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from tests.browser.conftest import Console

pytestmark = pytest.mark.browser

PERSON = {
    "$defs": {
        "Pet": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "kind": {"$ref": "#/$defs/Kind"}},
            "required": ["name", "kind"],
            "additionalProperties": False,
        },
        "Kind": {"type": "string", "enum": ["cat", "dog"]},
    },
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2, "pattern": "^[A-Z]"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "pets": {"type": "array", "items": {"$ref": "#/$defs/Pet"}, "maxItems": 2},
        "score": {"type": ["number", "null"], "exclusiveMinimum": 0},
        "id": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "version": {"const": 1},
        "extra": {"type": "object"},
        "flags": {"type": "object", "properties": {"vip": {"type": "boolean"}}},
    },
    "required": ["name", "age", "nickname", "pets", "score", "id", "version"],
    "additionalProperties": False,
}

VALID = {
    "name": "Ada",
    "age": 36,
    "nickname": None,
    "pets": [{"name": "Tom", "kind": "cat"}, {"name": "Rex", "kind": "dog"}],
    "score": 2.5,
    "id": 7,
    "version": 1,
    "extra": {"anything": [1, {"x": None}]},
    "flags": {"vip": False},
}


async def run(page: Page, script: str, *args: Any) -> Any:
    """Call `script`, a JS function of (schema module, form module, args), in the page."""
    await page.evaluate(
        """async () => {
          window.__schema = await import("/console/static/schema.js");
          window.__forms = await import("/console/static/schemaform.js");
        }"""
    )
    call = f"(args) => ({script})(window.__schema, window.__forms, args)"
    return await page.evaluate(call, list(args))


@pytest.fixture
async def page(console: Console) -> Page:
    await console.page.goto(f"{console.woz.url}/console/")
    return console.page


async def test_validation_messages_name_the_field(page: Page) -> None:
    """validate() follows $refs and reports each problem at its path."""
    bad = {
        **VALID,
        "name": "a",
        "age": 1.5,
        "pets": [{"name": "Tom", "kind": "fish", "x": 1}, {}, {}],
        "score": 0,
        "id": True,
        "version": 2,
        "surprise": 1,
    }
    del bad["nickname"]
    errors = await run(
        page,
        "(s, f, [schema, value]) => s.validate(schema, schema, value).map(e => "
        "`${s.pathText(e.path)}: ${e.message}`)",
        PERSON,
        bad,
    )
    assert errors == [
        "nickname: is required",
        "name: needs at least 2 characters",
        "name: must match the pattern ^[A-Z]",
        "age: must be integer, not number",
        "pets: allows at most 2 items",
        'pets[0].kind: must be one of "cat", "dog"',
        "pets[0].x: is not an allowed field",
        "pets[1].name: is required",
        "pets[1].kind: is required",
        "pets[2].name: is required",
        "pets[2].kind: is required",
        "score: must be more than 0",
        "id: does not match any of the allowed shapes",
        "version: must be 1",
        "surprise: is not an allowed field",
    ]
    no_errors = await run(page, "(s, f, [sc, v]) => s.validate(sc, sc, v)", PERSON, VALID)
    assert no_errors == []


async def test_form_round_trips_every_kind_of_field(page: Page) -> None:
    """A value written into the generated form reads back the same, with no errors."""
    result = await run(
        page,
        """(s, f, [schema, value]) => {
          const form = new f.SchemaForm(schema, {idPrefix: "t"});
          document.body.append(form.el);
          form.setValue(value);
          const out = form.getValue();
          form.el.remove();
          return out;
        }""",
        PERSON,
        VALID,
    )
    assert result == {"value": VALID, "errors": []}


async def test_empty_form_reports_missing_fields(page: Page) -> None:
    """A fresh form lists what the operator still has to fill."""
    errors = await run(
        page,
        """(s, f, [schema]) => {
          const form = new f.SchemaForm(schema, {idPrefix: "t"});
          return form.getValue().errors.map(e => `${s.pathText(e.path)}: ${e.message}`);
        }""",
        PERSON,
    )
    assert errors == ["name: is required", "age: is required", "id: is required"]
