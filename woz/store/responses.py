"""The response protocol: Responses API responses kept so `previous_response_id` can
continue them and `GET /v1/responses/{id}` can return them.

Both texts are opaque JSON to the store. A response of a participant who has
withdrawn is dropped, like their records (see `woz.store.records`).
"""

from __future__ import annotations

from typing import Protocol


class ResponseStore(Protocol):
    async def save_response(
        self,
        response_id: str,
        study_id: str,
        participant: str | None,
        items_json: str,
        response_json: str,
    ) -> None:
        """Durably keep a Responses API response, replacing what was kept under its id:
        its conversation (an empty text while it has no answer) and the response
        object as returned (both opaque JSON texts)."""

    async def get_response(self, response_id: str, study_id: str) -> str | None:
        """The conversation saved for `response_id` in this study, or None."""

    async def get_response_object(self, response_id: str, study_id: str) -> str | None:
        """The response object saved for `response_id` in this study, or None."""

    async def delete_response(self, response_id: str, study_id: str) -> bool:
        """Forget a stored response; False if there was none."""
