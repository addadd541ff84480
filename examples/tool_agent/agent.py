"""An order-help agent: the usual tool-calling loop, with a person choosing the calls.

Nothing here knows woz: it is the loop an app runs against any chat model with
tools. It sends the conversation and the tools, runs each function the "model"
calls, sends the results back, and stops when the answer is text. Serve the study
(`woz serve --study examples/tool_agent/study.toml`), create an app key
(`woz keys create --study tool-agent --role app`), log an operator in, then:

    WOZ_URL=http://127.0.0.1:8000 WOZ_APP_KEY=woz-app-... \\
        python examples/tool_agent/agent.py "My order A-1002 arrived broken"
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from openai import OpenAI

# The shop's own data: what the tools work on.
ORDERS: dict[str, dict[str, Any]] = {
    "A-1001": {"item": "walking boots", "status": "in transit", "paid": 129.0},
    "A-1002": {"item": "ceramic teapot", "status": "delivered damaged", "paid": 45.0},
}
REFUNDS: list[str] = []

TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "The item, delivery status and amount paid of an order.",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string", "description": "like A-1001"}},
                "required": ["order_id"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "issue_refund",
            "description": "Refund an order in full.",
            "parameters": {
                "type": "object",
                "properties": {
                    "order_id": {"type": "string"},
                    "reason": {"type": "string"},
                },
                "required": ["order_id", "reason"],
                "additionalProperties": False,
            },
        },
    },
]
MAX_STEPS = 8


def lookup_order(order_id: str) -> dict[str, Any]:
    return ORDERS.get(order_id) or {"error": f"no order {order_id}"}


def issue_refund(order_id: str, reason: str) -> dict[str, Any]:
    if order_id not in ORDERS:
        return {"error": f"no order {order_id}"}
    REFUNDS.append(order_id)
    return {"refunded": ORDERS[order_id]["paid"], "order_id": order_id, "reason": reason}


def run_tool(name: str, arguments: str) -> str:
    """A function's result as the JSON text the model reads; mistakes are results too."""
    try:
        args = json.loads(arguments or "{}")
        if name == "lookup_order":
            result = lookup_order(str(args["order_id"]))
        elif name == "issue_refund":
            result = issue_refund(str(args["order_id"]), str(args.get("reason", "")))
        else:
            result = {"error": f"no tool {name}"}
    except (ValueError, KeyError) as exc:
        result = {"error": f"bad arguments: {exc}"}
    return json.dumps(result)


def main() -> int:
    key = os.environ.get("WOZ_APP_KEY")
    if not key:
        print("Set WOZ_APP_KEY to an app key of the tool-agent study.", file=sys.stderr)
        return 2
    client = OpenAI(
        base_url=os.environ.get("WOZ_URL", "http://127.0.0.1:8000") + "/v1",
        api_key=key,
        timeout=600,  # a person takes longer than a model
    )
    messages: list[Any] = [
        {"role": "system", "content": "You help customers with their orders."},
        {"role": "user", "content": " ".join(sys.argv[1:]) or "Where is my order A-1001?"},
    ]
    for _ in range(MAX_STEPS):
        reply = (
            client.chat.completions.create(
                model=os.environ.get("WOZ_MODEL", "order-agent"), messages=messages, tools=TOOLS
            )
            .choices[0]
            .message
        )
        messages.append(reply.model_dump(exclude_none=True))
        if not reply.tool_calls:
            print(reply.content)
            return 0
        for call in reply.tool_calls:
            if call.type != "function":
                continue
            result = run_tool(call.function.name, call.function.arguments)
            print(f"[{call.function.name}({call.function.arguments}) -> {result}]")
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    print("The agent gave up after too many steps.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
