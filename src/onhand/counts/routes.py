"""HTTP: the cycle-count programme, today's count tasks, counting, approval, accuracy.
Every route needs the admin scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Query

from .. import db, tenants
from ..http import Admin, EngineDep, Limit, api_router
from ..inputs import Day
from . import metrics as _metrics  # noqa: F401  (registers the accuracy gauge)
from . import service
from .schemas import Accuracy, CountIn, CountTask, CountTasks, Generated, Programme, ProgrammeIn
from .schemas import Status as TaskStatus
from .tables import count_tasks

router = api_router(prefix="/v1/{tenant}/counts", tags=["cycle counts"])


@router.get("/programme", summary="How often each ABC class is counted", response_model=Programme)
def get_programme(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return service.programme(conn, caller.tenant)


@router.put(
    "/programme",
    summary="Set the count interval and tolerance of each ABC class",
    response_model=Programme,
)
def put_programme(body: ProgrammeIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.save_programme(conn, caller.tenant, body, db.utcnow())


@router.post(
    "/tasks/generate",
    summary="Make the count tasks due on a day (the daily job does this on its own)",
    description="Items and locations whose class interval has passed since their last count, "
    "and those never counted whose first day it is (spread over the interval). One task at "
    "a time per item and location. `on` defaults to the tenant's today.",
    response_model=Generated,
)
def generate_tasks(caller: Admin, engine: EngineDep, on: Day | None = None) -> dict[str, Any]:
    now = db.utcnow()
    with db.write(engine) as conn:
        day = on or tenants.load(conn, caller.tenant).day(now)
        return service.generate(conn, caller.tenant, day, now)


@router.get(
    "/tasks",
    summary="Count tasks in walking order (blind: no expected quantity before the count)",
    response_model=CountTasks,
)
def list_tasks(
    caller: Admin,
    engine: EngineDep,
    status: Annotated[TaskStatus | None, Query()] = None,
    due_by: Day | None = None,
    limit: Limit = 200,
) -> dict[str, Any]:
    where: list[Any] = []
    if status:
        where.append(count_tasks.c.status == status)
    if due_by:
        where.append(count_tasks.c.due_on <= due_by)
    with db.read(engine) as conn:
        return {"tasks": service.tasks(conn, caller.tenant, where, limit)}


@router.get("/tasks/{task_id}", summary="One count task", response_model=CountTask)
def get_task(task_id: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return service.get(conn, caller.tenant, task_id)


@router.post(
    "/tasks/{task_id}/count",
    summary="Record what is on the shelf",
    description="Within the class's tolerance the count posts itself (a `count` movement); "
    "beyond it the task waits in `review` for a manager. 409 unless the task is open.",
    response_model=CountTask,
)
def count_task(task_id: str, body: CountIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.count(conn, caller.tenant, task_id, body.counted, caller.actor, db.utcnow())


@router.post(
    "/tasks/{task_id}/approve",
    summary="Accept a count beyond tolerance: its variance is posted as an adjustment",
    response_model=CountTask,
)
def approve_task(task_id: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.approve(conn, caller.tenant, task_id, caller.actor, db.utcnow())


@router.post(
    "/tasks/{task_id}/recount",
    summary="Send a count beyond tolerance back to be counted again",
    response_model=CountTask,
)
def recount_task(task_id: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.recount(conn, caller.tenant, task_id, caller.actor, db.utcnow())


@router.get("/accuracy", summary="Share of counts within tolerance", response_model=Accuracy)
def get_accuracy(
    caller: Admin,
    engine: EngineDep,
    days: Annotated[int, Query(ge=1, le=3660)] = 90,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        return service.accuracy(conn, caller.tenant, db.utcnow() - timedelta(days=days))
