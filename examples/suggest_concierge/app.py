"""The SuggEst shopping app: asks its "AI" concierge for a gift as structured output.

It is an ordinary app written against the official `openai` SDK: it asks for a
recommendation in a JSON schema (product, brand, reason) with `parse`, and shows
it. In the study, a person writes the answer in the woz console; the console
shows a form for the schema and woz checks the answer against it before the app
sees it. Run the study first (`make demo` prints the URL and an app key), then:

    WOZ_URL=http://127.0.0.1:8000 WOZ_APP_KEY=woz-app-... \\
        python examples/suggest_concierge/app.py "A gift for my sister, who loves hiking"
"""

from __future__ import annotations

import os
import sys

from openai import OpenAI
from pydantic import BaseModel


class Recommendation(BaseModel):
    product: str
    brand: str
    reason: str


def main() -> int:
    key = os.environ.get("WOZ_APP_KEY")
    if not key:
        print("Set WOZ_APP_KEY to an app key (woz demo prints one).", file=sys.stderr)
        return 2
    request = " ".join(sys.argv[1:]) or "A gift idea for my sister?"
    client = OpenAI(
        base_url=os.environ.get("WOZ_URL", "http://127.0.0.1:8000") + "/v1",
        api_key=key,
        timeout=600,  # a person takes longer than a model
    )
    completion = client.chat.completions.parse(
        model=os.environ.get("WOZ_MODEL", "suggest-1"),
        messages=[
            {"role": "system", "content": "Recommend exactly one product."},
            {"role": "user", "content": request},
        ],
        response_format=Recommendation,
    )
    suggestion = completion.choices[0].message.parsed
    if suggestion is None:
        print("The concierge declined to recommend anything.")
        return 1
    print(f"{suggestion.product} by {suggestion.brand}")
    print(f"Why: {suggestion.reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
