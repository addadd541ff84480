"""A terminal chat app that does research ethics properly, with woz_client.

It shows the study's consent text and records the participant's consent, lets
them chat with the study's persona (answered by a person in the woz console),
debriefs them at the end, and offers to withdraw their data, all through
`woz_client`. Run a study first (`woz demo` prints the URL and an app key), then:

    WOZ_URL=http://127.0.0.1:8000 WOZ_APP_KEY=woz-app-... python examples/consent_chat/app.py
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import Any

from woz_client import WozAPIError, WozClient


def ask(prompt: str) -> str:
    try:
        return input(prompt).strip()
    except EOFError:
        return ""


def consented_uses(study: Any) -> list[str]:
    """Ask for consent the way the rules want it: each optional use separately, none
    assumed; the uses taking part needs are stated and agreed to first."""
    needed = list(study.required_uses)
    if needed:
        print("Taking part means your conversation is used for: " + ", ".join(needed))
        if not yes("Do you agree, and take part? [y/N] "):
            return []
    optional = [use for use in study.permitted_uses if use not in needed]
    return needed + [use for use in optional if yes(f"May it also be used for {use}? [y/N] ")]


def yes(prompt: str) -> bool:
    return ask(prompt).lower() == "y"


def main() -> int:
    url = os.environ.get("WOZ_URL", "http://127.0.0.1:8000")
    key = os.environ.get("WOZ_APP_KEY")
    if not key:
        print("Set WOZ_APP_KEY to an app key (woz demo prints one).", file=sys.stderr)
        return 2
    with WozClient(url, key) as woz:
        study = woz.study()
        model = os.environ.get("WOZ_MODEL") or ask("Model (persona) to talk to: ")
        person = woz.participant(
            ask("Your participant code: ") or uuid.uuid4().hex, conversation=uuid.uuid4().hex
        )
        # The participant-facing title: the study's own title may state the research question.
        print(f"\n{study.participant_page.title}\n\n{study.consent.text}\n")
        uses = consented_uses(study)
        if not uses:
            print("Thank you; nothing was recorded.")
            return 0
        person.consent(scopes=uses, method="terminal", text_sha256=study.consent.text_sha256)
        person.notice()
        history: list[dict[str, str]] = []
        print("\nType your message; an empty line ends the session.\n")
        while line := ask("you> "):
            history.append({"role": "user", "content": line})
            try:
                stream = person.chat.completions.create(model=model, messages=history, stream=True)
                print("ai> ", end="", flush=True)
                answer = ""
                for chunk in stream:
                    if chunk.choices:
                        piece = chunk.choices[0].delta.get("content") or ""
                        answer += piece
                        print(piece, end="", flush=True)
                print()
            except WozAPIError as error:
                print(f"(woz refused: {error.message})")
                history.pop()
                continue
            history.append({"role": "assistant", "content": answer})
        if study.debrief.policy != "none" and study.debrief.text:
            print(f"\n{study.debrief.text}\n")
            person.debrief()
            if study.debrief.reconsent_required:
                person.reconsent(yes("May we keep your conversation? [y/N] "))
        if yes("Withdraw and delete your conversation now? [y/N] "):
            person.withdraw()
            print("Your conversation was deleted.")
        print(f"You can review or withdraw later at: {person.status().get('page_url', '-')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
