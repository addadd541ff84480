"""Arm assignment as plain data: how a study draws a participant's arm.

The store stores an assignment atomically; what it needs to choose is this
`ArmDraw` (no callback crosses into a transaction, so a remote backend could run
the same pure choice). Participants are numbered in order of first assignment,
and the draw maps a position to an arm, as a trial's randomisation list does:

- `random`: simple randomisation; each position's arm is drawn independently.
- `balanced`: permuted blocks; each block of (number of arms) consecutive
  positions gets every arm once, in an order shuffled by the seed, so counts
  never differ by more than one.
- `fixed`: the app names the arm; `arms` holds just that one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

ArmMethod = Literal["fixed", "random", "balanced"]


def random_choice(seed: int, arm_ids: list[str], position: int) -> str:
    """The arm of the participant who arrived `position`-th, drawn independently."""
    return random.Random(f"{seed}:{position}").choice(arm_ids)


def balanced_choice(seed: int, arm_ids: list[str], position: int) -> str:
    """The arm of the participant who arrived `position`-th, by seeded permuted blocks."""
    block, offset = divmod(position, len(arm_ids))
    order = list(arm_ids)
    random.Random(f"{seed}:{block}").shuffle(order)
    return order[offset]


@dataclass(frozen=True)
class ArmDraw:
    """How to choose an arm: the method, its seed and the arms to choose from."""

    method: ArmMethod
    arms: tuple[str, ...]
    seed: int = 0

    def choose(self, position: int) -> str:
        """The arm of the participant assigned `position`-th (counting from 0)."""
        if not self.arms:
            raise ValueError("an arm draw needs at least one arm")
        if self.method == "random":
            return random_choice(self.seed, list(self.arms), position)
        if self.method == "balanced":
            return balanced_choice(self.seed, list(self.arms), position)
        return self.arms[0]
