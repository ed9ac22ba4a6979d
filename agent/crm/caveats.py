"""What a merge means on each CRM, shown on the approval card next to the merge plan.

The planner's own caveats say what revgate does (survivor's values kept, notes moved);
these say what the platform does that cannot be taken back, so an approver sees it
before clicking.
"""

from __future__ import annotations

SALESFORCE_MERGE_MAX = 3
"""Records one Salesforce merge call takes: the master and two others."""


def merge_caveats(crm: str, records: int) -> list[str]:
    """Platform caveats of merging ``records`` records (survivor included) on ``crm``."""
    if crm == "hubspot":
        steps = records - 1
        caveats = [
            "HubSpot merges cannot be undone.",
            "HubSpot gives the merged record a new record id; links and integrations "
            "that stored the old ids are redirected by HubSpot, not updated.",
        ]
        if steps > 1:
            caveats.append(
                f"HubSpot merges two records at a time: this takes {steps} merges in a row, "
                "and a failure part-way is finished on retry."
            )
        return caveats
    if crm == "salesforce":
        caveats = [
            f"Salesforce merges at most {SALESFORCE_MERGE_MAX} records in one call; "
            "the merged-away records are deleted (to the recycle bin) and their related records "
            "move to the survivor.",
        ]
        if records > SALESFORCE_MERGE_MAX:
            calls = -(-(records - 1) // (SALESFORCE_MERGE_MAX - 1))
            caveats.append(f"These {records} records take {calls} merge calls in a row.")
        return caveats
    return []
