"""One batch of cases, one conversation: the model's tool calls, each gated, each answered.

Every ``tool_use`` gets a ``tool_result``: a read answers with a data block, a
proposal with what the gate made of it (executed, "queued for approval <id>",
refused with the reason and rule, failed with why), anything else with an error
result. Nothing the model sends raises here and nothing skips the gate. Every
call is audited. When a reply settles every case of the batch without an error,
the batch ends without another request: one call per batch is the norm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from anthropic.types import ToolUseBlock

from agent.crm.fields import fields_of
from agent.llm.budget import BudgetMeter
from agent.llm.client import ModelClient
from agent.llm.prompt import batch_message, data_block, system_blocks
from agent.llm.tools import GET_RECORD, LIST_CANDIDATES, SKIP_CASES, kind_of_tool, tool_definitions
from agent.models import OWNER_FIELD
from agent.planner.cases import Case
from agent.planner.tool_calls import Records, action_from_tool, describe_input
from agent.run_gate import RunGate
from agent.run_report import ProposalOutcome


@dataclass
class BatchResult:
    resolved: set[str] = field(default_factory=set)
    """Case ids the model proposed something for or skipped."""
    tool_calls: int = 0
    tool_errors: int = 0
    proposals: int = 0
    stopped: str | None = None
    """Why the batch ended before every case was settled (budget, step limit), if it did."""


class BatchSession:
    """Runs the tool loop for one batch of cases."""

    def __init__(
        self,
        *,
        client: ModelClient,
        gate: RunGate,
        meter: BudgetMeter,
        cases: Sequence[Case],
        all_cases: Sequence[Case],
        records: Records,
        rejections: list[dict[str, Any]],
        new_id: Callable[[], str],
        label: str,
    ) -> None:
        self._client = client
        self._gate = gate
        self._meter = meter
        self._cases = list(cases)
        self._all_cases = all_cases
        self._records = records
        self._rejections = rejections
        self._new_id = new_id
        self._label = label
        self._visible = {(c.object_type, r.id) for c in cases for r in c.records}
        self.result = BatchResult()

    def run(self) -> BatchResult:
        """Talk until every case is settled, the model stops, or a limit is reached.

        Raises:
            ModelUnavailableError: from the client; the caller falls back to the rules.
        """
        payload = [case.payload() for case in self._cases]
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": batch_message(payload, self._rejections, batch=self._label)}
        ]
        system, tools = system_blocks(), tool_definitions()
        for _step in range(self._meter.budget.max_steps_per_batch):
            exhausted = self._meter.exhausted()
            if exhausted:
                self.result.stopped = f"budget exhausted: {exhausted}"
                return self.result
            message = self._client.create(system=system, tools=tools, messages=messages)
            uses = [block for block in message.content if isinstance(block, ToolUseBlock)]
            if not uses:
                return self.result
            results = [self._answer(use) for use in uses]
            settled = {c.id for c in self._cases} <= self.result.resolved
            if settled and not any(r.get("is_error") for r in results):
                return self.result
            messages.append(
                {
                    "role": "assistant",
                    "content": [
                        b.model_dump(mode="json", exclude_none=True)
                        for b in message.content
                        if b.type in ("text", "tool_use")
                    ],
                }
            )
            messages.append({"role": "user", "content": results})
        self.result.stopped = f"step limit: {self._meter.budget.max_steps_per_batch} turns for one batch"
        return self.result

    # -- one tool call ---------------------------------------------------------------

    def _answer(self, use: ToolUseBlock) -> dict[str, Any]:
        self.result.tool_calls += 1
        text, is_error, action_id = self._dispatch(use.name, use.input)
        if is_error:
            self.result.tool_errors += 1
        self._gate.audit(
            "model_tool_call",
            {
                "tool": use.name[:80],
                "tool_use_id": use.id[:80],
                "input": describe_input(use.input),
                "error": is_error,
                "action_id": action_id,
                "result": text[:500],
            },
        )
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": use.id, "content": text}
        if is_error:
            result["is_error"] = True
        return result

    def _dispatch(self, name: str, raw: dict[str, object]) -> tuple[str, bool, str | None]:
        """(result text, is_error, proposal id)."""
        if name == GET_RECORD:
            return (*self._get_record(raw), None)
        if name == LIST_CANDIDATES:
            return (*self._list_candidates(raw), None)
        if name == SKIP_CASES:
            return (*self._skip(raw), None)
        kind = kind_of_tool(name)
        if kind is None:
            return f"unknown tool {name[:80]!r}: there is no such tool; nothing was done", True, None
        action = action_from_tool(
            kind, raw, records=self._records, cases=self._cases, new_id=self._new_id, model=self._client.model
        )
        if isinstance(action, str):
            return action + "; nothing was done", True, None
        self.result.proposals += 1
        outcome = self._gate.submit(action)
        for case in self._cases:
            if case.object_type == action.object_type and set(case.record_ids) <= set(action.record_ids):
                self.result.resolved.add(case.id)
        text, is_error = outcome_text(outcome)
        return text, is_error, action.id

    def _get_record(self, raw: Mapping[str, object]) -> tuple[str, bool]:
        object_type, record_id, names = raw.get("object_type"), raw.get("record_id"), raw.get("fields")
        if (object_type, record_id) not in self._visible or not isinstance(names, list):
            return "only records of the current cases can be read, with a list of fields", True
        record = self._records[object_type][str(record_id)]  # type: ignore[index]
        allowed = fields_of(record.object_type) | {OWNER_FIELD}
        shown = {str(n): record.get(str(n)) for n in names[:20] if str(n) in allowed}
        return data_block({"id": record.id, "version": record.version, "fields": shown}), False

    def _list_candidates(self, raw: Mapping[str, object]) -> tuple[str, bool]:
        record_id = raw.get("record_id")
        if ("lead", record_id) not in self._visible:
            return "only records of the current cases can be looked up", True
        pairs = [c.payload() for c in self._all_cases if c.pair is not None and record_id in c.record_ids]
        return data_block({"record_id": record_id, "candidates": pairs[:10]}), False

    def _skip(self, raw: Mapping[str, object]) -> tuple[str, bool]:
        ids = raw.get("case_ids")
        mine = {c.id for c in self._cases}
        if not isinstance(ids, list) or not ids:
            return "skip_cases needs case_ids", True
        known = [str(i) for i in ids if str(i) in mine]
        self.result.resolved.update(known)
        unknown = [str(i)[:20] for i in ids if str(i) not in mine]
        text = f"skipped {len(known)} case(s); nothing was changed"
        return (text + f"; not in this batch: {', '.join(unknown)}", True) if unknown else (text, False)


def outcome_text(outcome: ProposalOutcome) -> tuple[str, bool]:
    """What to tell the model about a gated proposal; CRM-derived detail goes in a data block."""
    verdict, action = outcome.verdict, outcome.action
    records = f"{action.kind} on {len(action.targets)} {action.object_type}(s), proposal {action.id}"
    match outcome.disposition:
        case "executed":
            return f"executed: {records}.", False
        case "queued":
            return (
                f"queued for approval {outcome.approval_id}: {verdict.reason} (rule: {verdict.rule}). "
                "A person decides; do not propose it again.",
                False,
            )
        case "refused":
            return (
                f"refused by policy: {verdict.reason} (rule: {verdict.rule}). Do not propose it again.",
                False,
            )
        case "duplicate":
            return f"already waiting for approval: {records}; nothing new was queued.", False
        case "planned":
            return (
                f"dry run: the policy says {verdict.outcome} (rule: {verdict.rule}); nothing was written.",
                False,
            )
        case "suppressed":
            return "not proposed again: a person rejected it before.\n" + data_block(
                {"rejection": verdict.reason}
            ), False
        case "superseded":
            return "not applied: the record changed since it was read.\n" + data_block(
                {"detail": outcome.detail}
            ), True
        case _:
            return f"failed, nothing was written: {records}.\n" + data_block({"detail": outcome.detail}), True
