"""Who produced a text, from what actually happened to a model's draft.

An assist-mode operator can send the draft untouched, edit it, or write their
own answer. The edit ratio (0 = identical, 1 = nothing in common, from
difflib's similarity) decides the record's `produced_by`:

- 0: `model` (the human only approved it; the text is synthetic)
- below `REWRITE_THRESHOLD`: `human_edited_model_draft`
- at or above it: `human` (a rewrite; the draft is still kept beside it)
"""

from __future__ import annotations

from difflib import SequenceMatcher

from woz.models.task import ProducedBy

REWRITE_THRESHOLD = 0.6


def edit_ratio(draft: str, final: str) -> float:
    """How much of `draft` the operator changed, from 0.0 (nothing) to 1.0 (everything)."""
    if draft == final:
        return 0.0
    similarity = SequenceMatcher(None, draft, final, autojunk=False).ratio()
    return round(1.0 - similarity, 4)


def classify(draft: str, final: str) -> tuple[ProducedBy, float]:
    """`produced_by` and the edit ratio for an answer written from `draft`."""
    ratio = edit_ratio(draft, final)
    if ratio == 0.0:
        return ProducedBy.MODEL, ratio
    if ratio < REWRITE_THRESHOLD:
        return ProducedBy.HUMAN_EDITED_MODEL_DRAFT, ratio
    return ProducedBy.HUMAN, ratio
