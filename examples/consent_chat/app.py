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

from woz_client import WozAPIError, WozClient


def ask(prompt: str) -> str:
    try:
        return input(prompt).strip()
    except EOFError:
        return ""


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
        print(f"\n{study.title}\n\n{study.consent.text}\n")
        uses = study.permitted_uses
        print("Your conversation may be used for: " + ", ".join(uses))
        if ask("Do you agree? [y/N] ").lower() != "y":
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
                person.reconsent(ask("May we keep your conversation? [y/N] ").lower() == "y")
        if ask("Withdraw and delete your conversation now? [y/N] ").lower() == "y":
            person.withdraw()
            print("Your conversation was deleted.")
        print(f"You can review or withdraw later at: {person.status().get('page_url', '-')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
