"""API endpoints of the pipeline: stages, opportunities (商机) and the board."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS
from kehu.core.permissions import Perm
from kehu.sales import selectors, services
from kehu.sales.api_common import (
    DAY_CURSOR,
    MAX_ID,
    api_field_names,
    keyset_page,
    not_found,
    visible_customer,
)
from kehu.sales.choices import OpportunityStatus
from kehu.sales.models import Opportunity, PipelineStage
from kehu.sales.schemas import VersionIn
from kehu.sales.schemas_pipeline import (
    BoardColumnOut,
    BoardFilterQuery,
    LoseIn,
    MoveIn,
    OpportunityFilterQuery,
    OpportunityIn,
    OpportunityOut,
    OpportunityPage,
    OpportunityPatch,
    StageIn,
    StageOut,
    StagePatch,
    WinIn,
)
from kehu.sales.selectors import OpportunityFilters

router = Router(tags=["sales"])

# --- stages -----------------------------------------------------------------------------


@router.get(
    "/pipeline/stages", response={200: list[StageOut], **ERRORS}, summary="The pipeline's stages"
)
@require(Perm.VIEW_SALES)
def list_stages(
    request: HttpRequest, active: bool = Query(True, description="false: retired ones too.")
) -> Any:
    return list(selectors.stage_list(active_only=active))


@router.post(
    "/pipeline/stages", response={201: StageOut, **WRITE_ERRORS}, summary="Add a pipeline stage"
)
@require(Perm.MANAGE_CATALOGUE)
def create_stage(request: HttpRequest, payload: StageIn) -> Any:
    data = {k: v for k, v in payload.dict().items() if v is not None}
    return Status(201, services.stage_create(actor=request.user, **data))


@router.patch(
    "/pipeline/stages/{stage_id}",
    response={200: StageOut, **WRITE_ERRORS},
    summary="Change a pipeline stage (rename, reorder, probability, retire)",
)
@require(Perm.MANAGE_CATALOGUE)
def update_stage(request: HttpRequest, stage_id: int, payload: StagePatch) -> Any:
    try:
        stage = PipelineStage.objects.filter(pk=stage_id).first()
    except OverflowError:
        stage = None
    if stage is None:
        raise not_found()
    return services.stage_update(
        actor=request.user, stage=stage, **payload.dict(exclude_unset=True)
    )


@router.get(
    "/pipeline/board",
    response={200: list[BoardColumnOut], **ERRORS},
    summary="The open opportunities by stage (the kanban board)",
)
@require(Perm.VIEW_SALES)
def pipeline_board(
    request: HttpRequest,
    filters: Query[BoardFilterQuery],
    per_stage: int = Query(50, ge=0, le=200, description="Cards per stage."),
) -> Any:
    """Every active stage with the count, the amount and the weighted amount of its open
    opportunities in your scope, and its first cards."""
    columns = selectors.pipeline_board(
        actor=request.user,
        filters=OpportunityFilters(**filters.dict(), status=OpportunityStatus.OPEN),
        per_stage=per_stage,
    )
    return [column.__dict__ for column in columns]


# --- opportunities ----------------------------------------------------------------------


def _opportunity(request: HttpRequest, pk: int, perm: str = Perm.VIEW_SALES) -> Opportunity:
    try:
        return selectors.opportunity_get(actor=request.user, pk=pk, perm=perm)
    except (Opportunity.DoesNotExist, OverflowError):
        raise not_found() from None


def _fresh(opportunity: Opportunity) -> Opportunity:
    return Opportunity.all_objects.select_related("customer", "stage").get(pk=opportunity.pk)


@router.get(
    "/opportunities", response={200: OpportunityPage, **ERRORS}, summary="Opportunities (商机)"
)
@require(Perm.VIEW_SALES)
def list_opportunities(
    request: HttpRequest,
    filters: Query[OpportunityFilterQuery],
    cursor: str = Query(
        "", max_length=40, pattern=DAY_CURSOR, description="`next_cursor` of the previous page."
    ),
    limit: int = Query(50, ge=1, le=200),
) -> Any:
    """Opportunities credited to people in your scope, soonest expected close first (no
    date last); open ones unless `status` says otherwise. Keyset pages."""
    opportunities = selectors.opportunity_list(
        actor=request.user, filters=OpportunityFilters(**filters.dict())
    )
    return keyset_page(
        opportunities,
        cursor=cursor,
        limit=limit,
        field="expected_close",
        kind="day",
        nulls_last=True,
    )


@router.post(
    "/opportunities", response={201: OpportunityOut, **WRITE_ERRORS}, summary="Add an opportunity"
)
@require(Perm.CHANGE_SALES)
def create_opportunity(request: HttpRequest, payload: OpportunityIn) -> Any:
    data = payload.dict()
    customer = visible_customer(request, data.pop("customer_id"))
    with api_field_names(owner="owner_id", stage="stage_id"):
        opportunity = services.opportunity_create(
            actor=request.user,
            customer=customer,
            stage=data.pop("stage_id"),
            owner=data.pop("owner_id"),
            **data,
        )
    return Status(201, _fresh(opportunity))


@router.get(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityOut, **ERRORS},
    summary="An opportunity",
)
@require(Perm.VIEW_SALES)
def get_opportunity(request: HttpRequest, opportunity_id: int) -> Any:
    return _fresh(_opportunity(request, opportunity_id))


@router.patch(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityOut, **WRITE_ERRORS},
    summary="Change an opportunity",
)
@require(Perm.CHANGE_SALES)
def update_opportunity(request: HttpRequest, opportunity_id: int, payload: OpportunityPatch) -> Any:
    opportunity = _opportunity(request, opportunity_id, Perm.CHANGE_SALES)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    with api_field_names(owner="owner_id"):
        opportunity = services.opportunity_update(
            actor=request.user,
            opportunity=opportunity,
            expected_version=version,
            owner=data.pop("owner_id", None),
            **data,
        )
    return _fresh(opportunity)


@router.delete(
    "/opportunities/{opportunity_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete an opportunity",
)
@require(Perm.DELETE_SALES)
def delete_opportunity(
    request: HttpRequest, opportunity_id: int, version: int = Query(..., ge=1, le=MAX_ID)
) -> Any:
    """Soft delete: restorable."""
    opportunity = _opportunity(request, opportunity_id, Perm.DELETE_SALES)
    services.opportunity_delete(
        actor=request.user, opportunity=opportunity, expected_version=version
    )
    return Status(204, None)


@router.post(
    "/opportunities/{opportunity_id}/restore",
    response={200: OpportunityOut, **WRITE_ERRORS},
    summary="Bring back a deleted opportunity",
)
@require(Perm.DELETE_SALES)
def restore_opportunity(request: HttpRequest, opportunity_id: int) -> Any:
    try:
        opportunity = services.opportunity_restore(actor=request.user, pk=opportunity_id)
    except OverflowError:
        raise not_found() from None
    return _fresh(opportunity)


@router.post(
    "/opportunities/{opportunity_id}/move",
    response={200: OpportunityOut, **WRITE_ERRORS},
    summary="Move an opportunity to another stage (a card dragged on the board)",
)
@require(Perm.CHANGE_SALES)
def move_opportunity(request: HttpRequest, opportunity_id: int, payload: MoveIn) -> Any:
    """Version-checked: when two people drag the same card, the second gets 409."""
    opportunity = _opportunity(request, opportunity_id, Perm.CHANGE_SALES)
    with api_field_names(stage="stage_id"):
        opportunity = services.opportunity_move(
            actor=request.user,
            opportunity=opportunity,
            stage=payload.stage_id,
            expected_version=payload.version,
        )
    return _fresh(opportunity)


@router.post(
    "/opportunities/{opportunity_id}/win",
    response={200: OpportunityOut, **WRITE_ERRORS},
    summary="Mark an opportunity won (and create its order or contract)",
)
@require(Perm.CHANGE_SALES)
def win_opportunity(request: HttpRequest, opportunity_id: int, payload: WinIn) -> Any:
    """`create: "order"` records an order of one line of the expected amount,
    `"contract"` a draft contract for a year; their ids come back as `order_id` /
    `contract_id`."""
    opportunity = _opportunity(request, opportunity_id, Perm.CHANGE_SALES)
    opportunity = services.opportunity_win(
        actor=request.user,
        opportunity=opportunity,
        expected_version=payload.version,
        create=payload.create,
    )
    return _fresh(opportunity)


@router.post(
    "/opportunities/{opportunity_id}/lose",
    response={200: OpportunityOut, **WRITE_ERRORS},
    summary="Mark an opportunity lost, with the reason",
)
@require(Perm.CHANGE_SALES)
def lose_opportunity(request: HttpRequest, opportunity_id: int, payload: LoseIn) -> Any:
    opportunity = _opportunity(request, opportunity_id, Perm.CHANGE_SALES)
    opportunity = services.opportunity_close(
        actor=request.user,
        opportunity=opportunity,
        status=OpportunityStatus.LOST,
        expected_version=payload.version,
        reason=payload.reason,
    )
    return _fresh(opportunity)


@router.post(
    "/opportunities/{opportunity_id}/reopen",
    response={200: OpportunityOut, **WRITE_ERRORS},
    summary="Reopen a won or lost opportunity",
)
@require(Perm.CHANGE_SALES)
def reopen_opportunity(request: HttpRequest, opportunity_id: int, payload: VersionIn) -> Any:
    opportunity = _opportunity(request, opportunity_id, Perm.CHANGE_SALES)
    opportunity = services.opportunity_close(
        actor=request.user,
        opportunity=opportunity,
        status=OpportunityStatus.OPEN,
        expected_version=payload.version,
    )
    return _fresh(opportunity)
