"""Live tuning for admins: read and change the thresholds without a restart, and run a shadow candidate."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, status
from pydantic import ValidationError
from sqlalchemy import select

from agent_console.auth import current_admin
from agent_console.context import console
from detectors.records import TurnScores
from detectors.thresholds import Thresholds
from handoff.agents import Agent
from handoff.records import MessageRow
from handoff.threshold_log import ThresholdLog, merged

router = APIRouter(prefix="/api/agent/admin", tags=["tuning"])

Admin = Annotated[Agent, Depends(current_admin)]
Changes = Annotated[dict[str, Any], Body(description='sections and keys to change, e.g. {"sentiment": {"trend": 0.7}}')]


def log(request: Request) -> ThresholdLog:
    return console(request).threshold_log


@router.get("/thresholds")
def thresholds(request: Request, admin: Admin) -> dict[str, Any]:
    """The active thresholds, the shadow candidate (if any) and the recent changes."""
    live = log(request).live
    return {
        "active": live.current.model_dump(),
        "shadow": live.shadow.model_dump() if live.shadow else None,
        "changes": log(request).history(),
    }


@router.put("/thresholds")
async def change_thresholds(changes: Changes, request: Request, admin: Admin) -> dict[str, Any]:
    """Apply at once to every following customer turn; the change is logged with who made it."""
    new = _validated(log(request).live.current, changes)
    made = await asyncio.to_thread(log(request).apply, f"agent:{admin.id}", active=new)
    return {"active": new.model_dump(), "changes": made}


@router.put("/shadow")
async def set_shadow(changes: Changes, request: Request, admin: Admin) -> dict[str, Any]:
    """Run candidate thresholds (the active ones with these changes) beside the active ones, recording only."""
    candidate = _validated(log(request).live.current, changes)
    made = await asyncio.to_thread(log(request).apply, f"agent:{admin.id}", shadow=candidate)
    return {"shadow": candidate.model_dump(), "changes": made}


@router.delete("/shadow")
async def clear_shadow(request: Request, admin: Admin) -> dict[str, Any]:
    made = await asyncio.to_thread(log(request).apply, f"agent:{admin.id}", clear_shadow=True)
    return {"shadow": None, "changes": made}


@router.get("/shadow/report")
def shadow_report(request: Request, admin: Admin, last: int = 1000) -> dict[str, Any]:
    """Over the last `last` judged customer turns: how often the shadow candidate would have decided differently."""
    with console(request).store.reading() as session:
        rows = session.scalars(
            select(MessageRow.analysis)
            .where(MessageRow.sender == "customer", MessageRow.analysis.is_not(None))
            .order_by(MessageRow.id.desc())
            .limit(max(1, min(last, 100_000)))
        ).all()
    shadowed = [
        scores.shadow for scores in (TurnScores.from_json(r) for r in rows if isinstance(r, dict)) if scores.shadow
    ]
    differs = [s for s in shadowed if s.differs]
    return {
        "turns_judged": len(shadowed),
        "would_escalate_more": sum(1 for s in differs if s.escalate),
        "would_escalate_less": sum(1 for s in differs if not s.escalate),
    }


def _validated(base: Thresholds, changes: dict[str, Any]) -> Thresholds:
    try:
        return merged(base, changes)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"invalid thresholds: {problems}") from None
