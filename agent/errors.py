"""The errors revgate raises, as one small tree. Branch on the type, not the text.

::

    AgentError
    ├── SettingsError            a setting is missing or invalid (names the variable)
    ├── PolicyError              the policy file cannot be used
    │   └── PolicyFileError      ... with every problem and its line (``.problems``)
    ├── RoutingFileError         the routing file cannot be used (``.problems``, each with its line)
    ├── CalendarFeedError        a member's iCalendar feed cannot be read (not iCalendar, a broken date)
    ├── LeadNotRoutedError       a meeting was asked for a lead nobody owns yet
    ├── MeetingError
    │   ├── MeetingNotFoundError   no booked meeting has that id
    │   └── MeetingClosedError     the meeting is cancelled (or over): it cannot change
    ├── InviteDeliveryError      a meeting invite could not be handed to the mail server
    ├── CompanyCsvError          a user company CSV is malformed (``.path``, ``.line``, ``.column``;
    │                            defined in ``agent.enrich.company_table``)
    ├── PolicyDeniedError        the policy forbids the action (``.verdict``)
    ├── ValidationFailedError    pre-flight validation of a proposal failed
    ├── ApprovalError
    │   ├── ApprovalNotFoundError
    │   ├── ApprovalAlreadyResolvedError   someone got there first (``.status``, ``.by``)
    │   ├── NotAnApproverError             the user may not decide this approval
    │   ├── EditNotAllowedError            an edit would widen the change, or empty it
    │   └── UndoNotAllowedError
    ├── ExecutionError
    │   ├── StaleRecordError      the record changed since the plan (-> superseded)
    │   │   └── SlotTakenError    the meeting's slot was taken since the plan (-> superseded, re-planned)
    │   └── PostConditionError    the CRM did not end up as written
    ├── CRMError
    │   ├── CRMNotFoundError
    │   ├── CRMConflictError      version mismatch on a compare-and-set write
    │   ├── CRMAuthError
    │   ├── CRMValidationError    the CRM refused the data (unknown field, owner ...): not worth a retry
    │   ├── CRMRateLimitedError   (``.retry_after`` seconds)
    │   └── CRMUnavailableError   the CRM answered 5xx or could not be reached: worth a retry
    └── AuditChainError           the audit log does not verify (``.seq``)

Signals are not errors and do not live here.
"""

from __future__ import annotations

from dataclasses import dataclass


class AgentError(Exception):
    """Base of every error revgate raises on purpose."""


class SettingsError(AgentError):
    pass


class PolicyError(AgentError):
    pass


@dataclass(frozen=True)
class PolicyProblem:
    """One problem in a policy file."""

    line: int | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        return f"{where}: {self.severity}: {self.message}"


class PolicyFileError(PolicyError):
    def __init__(self, path: str, problems: list[PolicyProblem]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {path}: {p}" for p in problems)
        super().__init__(f"policy file {path} has {len(problems)} problem(s):\n{lines}")


class RoutingFileError(AgentError):
    def __init__(self, path: str, problems: list[PolicyProblem]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {path}: {p}" for p in problems)
        super().__init__(f"routing file {path} has {len(problems)} problem(s):\n{lines}")


class CalendarFeedError(AgentError, ValueError):
    """A calendar feed cannot be read: not iCalendar, or a property that matters is broken."""


class LeadNotRoutedError(AgentError):
    """The lead has no owner: it must be routed before a meeting can be proposed."""


class MeetingError(AgentError):
    """A booked meeting cannot be changed as asked."""


class MeetingNotFoundError(MeetingError):
    pass


class MeetingClosedError(MeetingError):
    pass


class InviteDeliveryError(AgentError):
    """The invite could not be handed over (mail server down, refused, folder not writable)."""


class PolicyDeniedError(AgentError):
    def __init__(self, message: str, rule: str) -> None:
        self.rule = rule
        super().__init__(message)


class ValidationFailedError(AgentError):
    pass


class ApprovalError(AgentError):
    pass


class ApprovalNotFoundError(ApprovalError):
    def __init__(self, approval_id: str) -> None:
        self.approval_id = approval_id
        super().__init__(f"no approval {approval_id}")


class ApprovalAlreadyResolvedError(ApprovalError):
    def __init__(self, approval_id: str, status: str, by: str | None) -> None:
        self.approval_id = approval_id
        self.status = status
        self.by = by
        who = f" by {by}" if by else ""
        super().__init__(f"approval {approval_id} is already {status}{who}")


class NotAnApproverError(ApprovalError):
    pass


class EditNotAllowedError(ApprovalError):
    pass


class UndoNotAllowedError(ApprovalError):
    pass


class ExecutionError(AgentError):
    pass


class StaleRecordError(ExecutionError):
    def __init__(self, record_id: str, planned: str, current: str | None) -> None:
        self.record_id = record_id
        self.planned = planned
        self.current = current
        now = "deleted" if current is None else f"version {current}"
        super().__init__(f"record {record_id} changed since the plan (planned version {planned}, now {now})")


class SlotTakenError(StaleRecordError):
    """The meeting's time is no longer free: something was booked over it since the plan.

    A :class:`StaleRecordError` so every path that supersedes stale plans supersedes it;
    the booking service then plans again from fresh calendars.
    """

    def __init__(self, record_id: str, why: str) -> None:
        ExecutionError.__init__(self, why)
        self.record_id = record_id
        self.planned = ""
        self.current = ""


class PostConditionError(ExecutionError):
    pass


class CRMError(AgentError):
    pass


class CRMNotFoundError(CRMError):
    pass


class CRMConflictError(CRMError):
    def __init__(self, record_id: str, expected: str, actual: str | None) -> None:
        self.record_id = record_id
        self.expected = expected
        self.actual = actual
        super().__init__(f"record {record_id}: expected version {expected}, found {actual}")


class CRMAuthError(CRMError):
    pass


class CRMValidationError(CRMError):
    pass


class CRMRateLimitedError(CRMError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class CRMUnavailableError(CRMError):
    pass


class AuditChainError(AgentError):
    def __init__(self, seq: int, message: str) -> None:
        self.seq = seq
        super().__init__(f"audit event {seq}: {message}")
