"""Checking an operator's reply against what the app asked for.

The app's request constrains the answer: `tool_choice`, the offered tools and
their parameter schemas, `parallel_tool_calls`, and `response_format`. A reply
that breaks a constraint is rejected with a reason the operator can act on,
before anything is committed or sent.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.protocols import Validator
from referencing.exceptions import Unresolvable

from woz.dispatch.base import Rejected
from woz.models.task import Answer, Task


def check_reply(task: Task, answer: Answer) -> Answer:
    """Return `answer` with its finish reason settled, or raise `Rejected`."""
    if answer.tool_calls:
        _check_tool_calls(task, answer)
        return answer.model_copy(update={"finish_reason": "tool_calls"})
    if answer.content is None or (answer.content == "" and answer.finish_reason == "stop"):
        raise Rejected("empty_reply", "The reply has neither text nor tool calls.")
    if task.tool_choice.mode in ("required", "named"):
        wanted = task.tool_choice.name or "a tool"
        raise Rejected("tool_choice_violation", f"The app requires a call to {wanted}.")
    _check_format(task, answer.content)
    if answer.finish_reason == "tool_calls":
        return answer.model_copy(update={"finish_reason": "stop"})
    return answer


def _check_tool_calls(task: Task, answer: Answer) -> None:
    choice = task.tool_choice
    if choice.mode == "none" or not task.tools:
        raise Rejected("tool_choice_violation", "The app does not allow tool calls here.")
    if len(answer.tool_calls) > 1 and not task.parallel_tool_calls:
        raise Rejected("tool_choice_violation", "The app allows one tool call at a time.")
    offered = {tool.name: tool for tool in task.tools}
    for call in answer.tool_calls:
        if choice.mode == "named" and call.name != choice.name:
            raise Rejected("tool_choice_violation", f"The app requires a call to {choice.name}.")
        tool = offered.get(call.name)
        if tool is None:
            raise Rejected("unknown_tool", f"{call.name!r} is not one of the app's tools.")
        arguments = _parse_json(call.arguments, f"the arguments of {call.name}")
        if not isinstance(arguments, dict):
            raise Rejected("schema_violation", f"The arguments of {call.name} must be an object.")
        if tool.parameters:
            _validate(arguments, tool.parameters, f"the arguments of {call.name}")


def _check_format(task: Task, content: str) -> None:
    fmt = task.response_format
    if fmt.type == "text":
        return
    value = _parse_json(content, "the reply")
    if fmt.type == "json_object" and not isinstance(value, dict):
        raise Rejected("schema_violation", "The app asked for a JSON object.")
    if fmt.type == "json_schema" and fmt.json_schema is not None:
        _validate(value, fmt.json_schema, "the reply")


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Rejected("invalid_json", f"{what} is not valid JSON: {exc.msg}.") from exc


def schema_validator(schema: dict[str, Any]) -> Validator:
    """A validator for `schema`, of the draft its `$schema` names (the latest if it names
    none woz knows). Raises `jsonschema.SchemaError` if `schema` is not a valid JSON
    Schema, `RecursionError` if it is nested too deeply to be checked."""
    if not isinstance(schema.get("$schema", ""), str):
        raise jsonschema.SchemaError("'$schema' must be a string")
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft202012Validator
    )
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate(value: Any, schema: dict[str, Any], what: str) -> None:
    try:
        schema_validator(schema).validate(value)
    except jsonschema.SchemaError as exc:
        raise Rejected("bad_schema", f"The app's schema is invalid: {exc.message}") from exc
    except (Unresolvable, RecursionError) as exc:
        raise Rejected(
            "bad_schema",
            "The app's schema cannot be applied: it refers to what it does not define, "
            "or is nested too deeply.",
        ) from exc
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "top level"
        raise Rejected(
            "schema_violation", f"{what} breaks the schema at {where}: {exc.message}"
        ) from exc
