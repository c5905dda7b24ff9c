"""File imports over HTTP: the importer of ``salur import``, with the file in the multipart field ``file``.

The routes sit under their own router, whose body limit is the upload cap (``SALUR_IMPORT_MAX_BYTES``,
answered 413 above it) while every other route keeps the small JSON limit. A file refused whole
(unreadable, or above a limit of ``SALUR_IMPORT_MAX_*``) is 422 with the refusal's code, and nothing
is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from litestar import Response, Router, post
from litestar.datastructures import ResponseHeader, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter, QueryParameter

from salur_cases.api.auth import allow
from salur_cases.api.common import Caller, Ctx, write_headers
from salur_cases.api.problems import ApiProblem, problem_responses
from salur_cases.api.schemas import ImportIssue, ImportRead
from salur_cases.domain.vocabulary import Role

if TYPE_CHECKING:
    from salur_cases.intake.report import ImportReport, RowProblem


class ImportKind(StrEnum):
    """What a file holds (the import kinds of docs/imports.md)."""

    REGISTRATIONS = "registrations"
    POPULATION = "population"
    VERVAL = "verval"
    ROSTER = "roster"
    CLEANSING = "cleansing"
    PAYMENTS = "payments"


@dataclass
class ImportUpload:
    """A CSV or XLSX file (first sheet), with a header row."""

    file: UploadFile


@post(
    "/{kind:str}",
    guards=[allow(Role.DINSOS, Role.DUKCAPIL)],
    sync_to_thread=True,
    status_code=200,
    operation_id="importFile",
    summary="Import a CSV or XLSX file",
    tags=["imports"],
    response_headers=[
        ResponseHeader(
            name="X-Salur-Position",
            documentation_only=True,
            description="the store's last position after the import",
        )
    ],
    responses=problem_responses(401, 403, 422),
    opt={
        "example": {
            "import_id": "c0ffee00" * 8,
            "rows": 2,
            "accepted": 1,
            "rejected": [
                {
                    "row": 3,
                    "column": "nik",
                    "code": "BAD_NIK",
                    "message": "NIK must have exactly 16 digits, got 15",
                }
            ],
            "warnings": [],
            "already_imported": False,
        }
    },
)
def import_file(
    ctx: Ctx,
    principal: Caller,
    kind: Annotated[ImportKind, PathParameter(description="what the file holds")],
    data: Annotated[ImportUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    dry_run: Annotated[
        bool, QueryParameter(required=False, description="check every row, write nothing")
    ] = False,
) -> Response[ImportRead]:
    """Import a file of one kind (Disdukcapil only ``population``); answers the per-row report."""
    from salur_cases.intake.importer import KIND_ROLES, import_file  # noqa: PLC0415 - intake loads lazily
    from salur_cases.intake.readers import FileRefused  # noqa: PLC0415 - likewise

    if principal.role not in KIND_ROLES[str(kind)]:
        raise ApiProblem(403, f"the {principal.role} role may not import {kind}")
    content = data.file.file.read()
    try:
        report = import_file(
            ctx.runtime,
            str(kind),
            data.file.filename or f"{kind}.csv",
            content,
            principal.actor,
            dry_run=dry_run,
        )
    except FileRefused as refused:
        raise ApiProblem(422, refused.message, code=refused.code) from None
    position = None if dry_run else ctx.runtime.app.recorder.max_notification_id()
    ctx.positions.wrote(position)
    return Response(import_read(report), headers=write_headers(position))


def import_read(report: ImportReport) -> ImportRead:
    """An import's report as the API answers it (rows and columns, never a NIK or a name)."""
    return ImportRead(
        import_id=report.import_id,
        kind=report.kind,
        rows=report.rows,
        accepted=report.accepted,
        rejected=_issues(report.rejected),
        warnings=_issues(report.warnings),
        already_imported=report.already_imported,
        dry_run=report.dry_run,
    )


def _issues(problems: list[RowProblem]) -> list[ImportIssue]:
    return [ImportIssue(p.row, p.code, p.message, p.column) for p in problems]


def router(max_upload_bytes: int) -> Router:
    """``/imports``, taking request bodies up to the upload cap."""
    return Router("/imports", route_handlers=[import_file], request_max_body_size=max_upload_bytes)
