"""The rules a policy is built from (bulk, high value, approvers, expiry) and the field types they use."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from agent.models import ACTION_KINDS, CONDITIONS

POLICY_NAMES: tuple[str, ...] = (*ACTION_KINDS, *CONDITIONS)
"""What the three lists (and ``approvers`` keys, besides ``default``) may name."""

_APPROVER_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_ESCALATION_TARGET = re.compile(r"^(#[a-z0-9][a-z0-9_-]{0,79}|[CGS][A-Z0-9]{2,})$")
_DURATION = re.compile(r"^(\d+)([smhd])$")


# --- reusable field types -------------------------------------------------


def did_you_mean(value: str, known: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or an empty string."""
    close = difflib.get_close_matches(value, known, n=1) or [
        k for k in known if value and k.startswith(value)
    ]
    return f" (did you mean '{close[0]}'?)" if close else ""


def _known_name(known: tuple[str, ...], *, kinds_only: bool = False) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value in known:
            return value
        if kinds_only and value in CONDITIONS:
            hint = f" ('{value}' is a condition; expiry is set per action kind)"
        else:
            hint = did_you_mean(value, known)
        raise PydanticCustomError(
            "unknown_name", "unknown action '{name}'{hint}", {"name": value, "hint": hint}
        )

    return check


def _approver_id(value: str) -> str:
    if _APPROVER_ID.match(value):
        return value
    raise PydanticCustomError(
        "approver_id",
        "'{value}' is not a Slack user id (U... or W...) or user-group id (S...); "
        "use the member id from the Slack profile, not the @name",
        {"value": value},
    )


def parse_duration(value: object) -> timedelta:
    """A duration from ``90s``, ``15m``, ``24h``, ``7d`` (or a ``timedelta``).

    Raises:
        PydanticCustomError: anything else, and durations that are not a positive
            whole number of seconds.
    """
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds_per_unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}
        try:
            duration = timedelta(seconds=int(match[1]) * seconds_per_unit[match[2]])
        except OverflowError:
            raise PydanticCustomError(
                "duration", "'{value}' is too long a duration", {"value": value}
            ) from None
    else:
        raise PydanticCustomError(
            "duration",
            "{shown} is not a duration; write a whole number and a unit, like 90s, 15m, 24h or 7d",
            {"shown": repr(value)},
        )
    if duration <= timedelta(0) or duration.microseconds:
        raise PydanticCustomError(
            "duration", "a duration must be a positive whole number of seconds, not {value}", {"value": value}
        )
    return duration


def format_duration(duration: timedelta) -> str:
    """The shortest ``<n><unit>`` spelling of a duration (``timedelta(hours=24)`` -> ``24h``)."""
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _escalation_target(value: str) -> str:
    if _ESCALATION_TARGET.match(value):
        return value
    raise PydanticCustomError(
        "escalation_target",
        "'{value}' is not a channel (#name, or an id C... / G...) or a user-group id (S...)",
        {"value": value},
    )


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, when_used="json")
]
PolicyName = Annotated[str, AfterValidator(_known_name(POLICY_NAMES))]
ApproverKey = Annotated[str, AfterValidator(_known_name(("default", *POLICY_NAMES)))]
ExpiryKey = Annotated[str, AfterValidator(_known_name(("default", *ACTION_KINDS), kinds_only=True))]
ApproverId = Annotated[str, AfterValidator(_approver_id)]
EscalationTarget = Annotated[str, AfterValidator(_escalation_target)]


# --- models ---------------------------------------------------------------


class Rule(BaseModel):
    # strict: a policy file saying max_records: "25" or min_approvals: 1.5 is a mistake, not a hint
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class BulkRule(Rule):
    """``bulk_operations``: one action, or one run's direct writes, touching more records than this."""

    max_records: int = Field(default=25, gt=0)


class HighValueRule(Rule):
    """``high_value_changes``: a change to a record whose ``field`` is at or above ``min``."""

    field: str = Field(default="annual_revenue", min_length=1)
    min: float = 1_000_000


class ApproverRule(Rule):
    """Who may approve a gate. A bare list in the file is shorthand for ``{users: [...]}``."""

    users: list[ApproverId] | None = None
    """Slack user ids (U.../W...) or user-group ids (S...); ``None`` inherits the default rule's list."""
    min_approvals: int = Field(default=1, gt=0)
    requester_may_approve: bool = True

    @model_validator(mode="before")
    @classmethod
    def _list_shorthand(cls, data: Any) -> Any:
        return {"users": data} if isinstance(data, list) else data


ExpiryFallback = Literal["drop", "routing_pool", "escalate"]


class ExpiryRule(Rule):
    """How long a request waits for a decision, and what happens after. A bare duration is shorthand.

    Before it expires a request can be nudged: a reminder in the card's thread
    ``remind_after`` the request, repeated as often until it is escalated; then,
    ``escalate_after`` the request, an escalation to ``escalate_to`` (a channel or
    a user group; by default the approvals channel itself). The ``escalate``
    fallback also tells ``escalate_to`` when a request expires undecided.
    """

    after: Duration
    fallback: ExpiryFallback = "drop"
    remind_after: Duration | None = None
    escalate_after: Duration | None = None
    escalate_to: EscalationTarget | None = None

    @model_validator(mode="after")
    def _steps_in_order(self) -> ExpiryRule:
        for name, step in (("remind_after", self.remind_after), ("escalate_after", self.escalate_after)):
            if step is not None and not timedelta(0) < step < self.after:
                raise ValueError(f"{name} must be shorter than after ({format_duration(self.after)})")
        if self.remind_after and self.escalate_after and self.remind_after >= self.escalate_after:
            raise ValueError("remind_after must be shorter than escalate_after")
        return self

    @model_validator(mode="before")
    @classmethod
    def _duration_shorthand(cls, data: Any) -> Any:
        return data if isinstance(data, dict | ExpiryRule) else {"after": data}
