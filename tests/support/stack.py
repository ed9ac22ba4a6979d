"""The whole agent wired over a real database, with a fixed clock and ids."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agent.facts import gather_facts
from agent.models import FieldChange, Owner, ProposedAction, Record, Target, Verdict
from agent.policy import Policy, evaluate
from agent.policy_file import load_policy
from agent.routing import RoutingService, parse_routing_text
from bot.container import Services, build_services
from bot.settings import Settings
from tests.support.fakes import FixedClock, RecordingNotifier, StaticGroups, sequential_ids

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"
STRICT_POLICY = ROOT / "policies" / "strict.yaml"

APPROVER = "U0APPROVER"
GROUP = "S0REVOPSLEADS"


class Stack:
    """Services plus the test doubles behind them."""

    def __init__(
        self, database_url: str, policy: Policy | None = None, groups: dict[str, set[str]] | None = None
    ):
        self.clock = FixedClock()
        self.notifier = RecordingNotifier()
        self.groups = StaticGroups(groups or {GROUP: {"U0LEAD1", "U0LEAD2"}})
        self.services: Services = build_services(
            Settings(DATABASE_URL=database_url),
            clock=self.clock,
            new_id=sequential_ids("t"),
            notifier=self.notifier,
            directory=self.groups,
            policy=policy or load_policy(DEFAULT_POLICY),
        )
        self.crm = self.services.crm
        self.approvals = self.services.approvals
        self.worker = self.services.worker

    def owner(self, owner_id: str, *, active: bool = True, name: str | None = None) -> Owner:
        return self.crm.create_owner(
            Owner(
                id=owner_id,
                name=name or f"Owner {owner_id}",
                email=f"{owner_id.lower()}@acme.io",
                active=active,
            )
        )

    def lead(self, **fields: object) -> Record:
        owner_id = fields.pop("owner_id", None)
        base: dict[str, object] = {
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane@acme.io",
            "company": "Acme",
            "status": "New",
        }
        base.update(fields)
        return self.crm.create_record("lead", base, owner_id=owner_id)  # type: ignore[arg-type]

    def account(self, **fields: object) -> Record:
        owner_id = fields.pop("owner_id", None)
        base: dict[str, object] = {"name": "Acme", "annual_revenue": 5_000_000}
        base.update(fields)
        return self.crm.create_record("account", base, owner_id=owner_id)  # type: ignore[arg-type]

    def verdict(self, action: ProposedAction) -> Verdict:
        records = self.crm.get_many(action.object_type, action.record_ids)
        return evaluate(self.services.policy, action, gather_facts(action, records, self.services.policy))

    def queue(self, action: ProposedAction, requested_by: str = "agent") -> str:
        verdict = self.verdict(action)
        assert verdict.outcome == "require_approval", verdict
        approval = self.approvals.request(action, verdict, run_id=None, requested_by=requested_by)
        assert approval is not None
        return approval.id

    def routing(self, text: str, base: Path | None = None) -> RoutingService:
        """Route by this routing YAML from now on (``base``: where its territory files are)."""
        config, problems = parse_routing_text(text, base=base or Path.cwd())
        assert config is not None, problems
        return self.services.use_routing(config)

    def close(self) -> None:
        self.services.close()

    def later(self, **delta: float) -> None:
        self.clock.current += timedelta(**delta)


def merge_action(survivor: Record, other: Record, action_id: str = "act-merge") -> ProposedAction:
    return ProposedAction(
        id=action_id,
        kind="merge",
        object_type=survivor.object_type,
        targets=[
            Target(record_id=survivor.id, version=survivor.version, label="survivor"),
            Target(record_id=other.id, version=other.version, label="duplicate"),
        ],
        merge={"survivor_id": survivor.id, "field_plan": {"phone": "+14155550134"}},
        rationale="Same email on both leads.",
        evidence={"match": "exact email", "score": 1.0},
    )


def owner_action(
    record: Record, new_owner: str, kind: str = "change_owner", action_id: str = "act-owner"
) -> ProposedAction:
    return ProposedAction(
        id=action_id,
        kind=kind,  # type: ignore[arg-type]
        object_type=record.object_type,
        targets=[
            Target(
                record_id=record.id,
                version=record.version,
                changes={"owner_id": FieldChange(before=record.owner_id, after=new_owner)},
            )
        ],
        rationale="The owner left the company.",
    )


def field_action(
    record: Record, kind: str = "normalize_field", action_id: str = "act-fields", **after: object
) -> ProposedAction:
    return ProposedAction(
        id=action_id,
        kind=kind,  # type: ignore[arg-type]
        object_type=record.object_type,
        targets=[
            Target(
                record_id=record.id,
                version=record.version,
                changes={k: FieldChange(before=record.get(k), after=v) for k, v in after.items()},  # type: ignore[arg-type]
            )
        ],
        rationale="Normalise.",
    )


def bulk_email_action(leads: list[Record], action_id: str = "bulk") -> ProposedAction:
    """Lower-case the emails of many leads in one action (a bulk change)."""
    return ProposedAction(
        id=action_id,
        kind="normalize_field",
        object_type="lead",
        targets=[
            Target(
                record_id=lead.id,
                version=lead.version,
                changes={
                    "email": FieldChange(
                        before=lead.get("email"), after=str(lead.get("email")).strip().lower()
                    )
                },
            )
            for lead in leads
        ],
        rationale="Lower-case emails.",
    )


def _tidy(email: object) -> str:
    return str(email).strip().lower()
