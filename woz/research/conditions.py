"""Experimental conditions: which arm a participant is in, and what that arm changes.

Assignment happens once per participant, at first sight (their first request,
or the opening of their voice session: `woz.api.realtime.announce`), and is
stored; a participant keeps their arm for the whole study.

Both seeded methods follow an allocation sequence, as in a trial's
randomisation list (`woz.store.arms`): participants are numbered in order of
arrival, and the seed fixes which arm each position gets, so the same seed and
the same order give the same assignment on any machine. With `fixed`, the app
names the arm in the `X-Woz-Arm` header (or the participant page's link, `?arm=`),
once: later requests may leave it out.

`admit` is a dispatcher admission step: it sets the task's mode and upstream
from its persona, and then from its arm when the persona is under the experiment.
"""

from __future__ import annotations

from woz.errors import ErrorKind, WozError, invalid_request
from woz.models.study import Arm, Mode, Study
from woz.models.task import Task
from woz.store.arms import ArmDraw
from woz.store.base import Store

# The header by which an app names the arm of a `fixed` assignment (read by `woz.api.core.intake`).
ARM_HEADER = "X-Woz-Arm"


class Conditions:
    """Applies personas' modes and the study's arms to new tasks."""

    def __init__(self, study: Study, store: Store) -> None:
        self._study = study
        self._store = store

    def _under_experiment(self, persona_id: str) -> bool:
        wanted = self._study.conditions.personas
        return bool(self._study.arms) and (not wanted or persona_id in wanted)

    async def admit(self, task: Task) -> Task:
        persona = self._study.persona(task.persona)
        if persona is not None:
            task.mode = persona.mode
            task.upstream = persona.upstream
        if not self._under_experiment(task.persona):
            return task
        arm = await self.arm_for(task)
        task.arm = arm.id
        task.reveal_arm = self._study.conditions.reveal_to_operators
        if arm.mode is not None:
            task.mode = arm.mode
        if arm.upstream is not None:
            task.upstream = arm.upstream
        if arm.live is not None:
            task.live = arm.live and task.stream
        if arm.pacing is not None:
            task.tokens_per_second = arm.pacing.tokens_per_second
            task.first_token_delay_ms = arm.pacing.first_token_delay_ms
        return task

    async def mode_for(self, persona_id: str, participant: str) -> Mode:
        """The mode the participant's tasks for `persona_id` are answered in:
        their arm's when the persona is under the experiment, else the persona's."""
        arm = None
        if self._under_experiment(persona_id):
            arm_id = await self._store.arm_of(self._study.id, participant)
            arm = self._study.arm(arm_id) if arm_id is not None else None
        return self._mode(persona_id, arm)

    def _mode(self, persona_id: str, arm: Arm | None) -> Mode:
        if arm is not None and arm.mode is not None:
            return arm.mode
        persona = self._study.persona(persona_id)
        return persona.mode if persona is not None else "human"

    async def answered_by_people(
        self, persona_id: str, participant: str | None, requested_arm: str | None = None
    ) -> bool:
        """Whether the participant's tasks for `persona_id` go to an operator (not to a
        model), for a participant an operator may see (`ResearchAdmission.may_see`).

        Under the experiment this is their first sight: their arm is assigned now if
        they have none, as their first task would assign it (`requested_arm` is the
        app's `X-Woz-Arm`), so that task finds the same arm. False when no arm can be
        assigned (no participant, or a `fixed` arm the app did not name): their first
        task says why.
        """
        if not self._under_experiment(persona_id):
            return self._mode(persona_id, None) != "model"
        try:
            arm = await self.assign(persona_id, participant, requested_arm)
        except WozError:
            return False
        return self._mode(persona_id, arm) != "model"

    async def arm_for(self, task: Task) -> Arm:
        """The participant's arm, assigning one at their first request."""
        return await self.assign(task.persona, task.participant, task.requested_arm)

    async def assign(
        self, persona_id: str, participant: str | None, requested_arm: str | None
    ) -> Arm:
        """The participant's arm, assigned now if they have none (first sight); raises
        `WozError` when no arm can be: no participant, or a `fixed` arm missing or
        conflicting (`requested_arm`, the app's `X-Woz-Arm`)."""
        if participant is None:
            raise invalid_request(
                f"The model {persona_id!r} is part of an experiment: identify the participant "
                "with the X-Woz-Participant header (or the `user` field).",
                code="participant_required",
            )
        conditions = self._study.conditions
        arm_ids = [arm.id for arm in self._study.arms]
        arms = tuple(arm_ids)
        if conditions.assignment == "fixed":
            # A participant assigned already (say, by the participant page's link) keeps
            # their arm without naming it again.
            requested = requested_arm or await self._store.arm_of(self._study.id, participant)
            if requested is None or self._study.arm(requested) is None:
                raise invalid_request(
                    f"This study assigns arms by the app: send {ARM_HEADER} with one of "
                    f"{', '.join(arm_ids)}.",
                    code="arm_required",
                )
            arms = (requested,)
        draw = ArmDraw(conditions.assignment, arms, conditions.seed)
        arm_id = await self._store.assign_arm(self._study.id, participant, draw)
        if conditions.assignment == "fixed" and requested_arm not in (None, arm_id):
            raise WozError(
                ErrorKind.CONFLICT,
                f"This participant is already in arm {arm_id!r}; an arm never changes.",
                code="arm_conflict",
                retryable=False,
            )
        arm = self._study.arm(arm_id)
        if arm is None:  # the study file lost an arm that participants were assigned to
            raise WozError(
                ErrorKind.CONFLICT,
                f"This participant's arm {arm_id!r} is no longer in the study file.",
                code="arm_missing",
                retryable=False,
            )
        return arm
