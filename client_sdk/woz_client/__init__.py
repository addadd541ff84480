"""woz-client: a small client for apps that talk to a woz server.

For what the vendor SDKs cannot say: which participant (and conversation) a
request belongs to, their consent, their debrief and their withdrawal. Chat
calls have the `openai` SDK's shape, so an app can switch between the two.

    from woz_client import WozClient

    with WozClient("http://127.0.0.1:8000", api_key="woz-app-...") as woz:
        ada = woz.participant("ada@example.org", conversation="session-1")
        ada.consent(scopes=["in_study_analysis"])
        reply = ada.chat.completions.create(model="suggest-1", messages=[...])
        print(reply.choices[0].message.content)
"""

from woz_client._calls import Participant
from woz_client._objects import Obj, WozAPIError
from woz_client.async_client import AsyncWozClient
from woz_client.client import WozClient

__all__ = ["AsyncWozClient", "Obj", "Participant", "WozAPIError", "WozClient"]
__version__ = "0.1.0"
