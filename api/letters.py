"""The answer letter: the explanation as a printable PDF (same parameters and roles as explain)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import QueryParameter

from salur_cases.api.auth import allow
from salur_cases.api.common import Caller, Ctx, MinPosition, check_kelurahan, kelurahan_of_view
from salur_cases.api.households import READERS, NoKKPath
from salur_cases.api.problems import problem_responses
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.parsing import parse_no_kk
from salur_cases.domain.vocabulary import Role

PDF = "application/pdf"


@get(
    "/households/{no_kk:str}/letter",
    guards=[allow(*READERS)],
    sync_to_thread=True,
    operation_id="householdLetter",
    summary="The explanation as a printable letter (PDF)",
    tags=["households"],
    media_type=PDF,
    responses={
        200: ResponseSpec(
            data_container=bytes,
            media_type=PDF,
            description="the letter: outcome, reasons, next steps, the event ids cited and the chain head",
            generate_examples=False,
            examples=[Example(summary="an A4 letter", value="%PDF-1.4 ...")],
        ),
        **problem_responses(401, 403, 404, 422),
    },
)
def household_letter(
    ctx: Ctx,
    principal: Caller,
    no_kk: NoKKPath,
    program: Annotated[str | None, QueryParameter(max_length=40, required=False)] = None,
    from_tahap: Annotated[int | None, QueryParameter(ge=1, le=1000, required=False)] = None,
    to_tahap: Annotated[int | None, QueryParameter(ge=1, le=1000, required=False)] = None,
    lang: Annotated[Literal["id", "en"], QueryParameter(description="id (Indonesian) or en")] = "id",
    min_position: MinPosition = None,
) -> Response[bytes]:
    """The household's explanation as an A4 letter to hand to the citizen."""
    from salur_cases.projections.letter import letter  # noqa: PLC0415 - projections load lazily
    from salur_cases.projections.queries import household_read  # noqa: PLC0415 - projections load lazily

    no_kk = parse_no_kk(no_kk)
    ctx.positions.wait(ctx.runtime, min_position)
    if principal.role is Role.KELURAHAN:
        view = household_read(ctx.runtime, no_kk)
        if view is None:
            raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
        check_kelurahan(principal, kelurahan_of_view(view))
    pdf = letter(ctx.runtime, no_kk, program, from_tahap, to_tahap, lang)
    return Response(
        pdf, media_type=PDF, headers={"Content-Disposition": 'inline; filename="surat-status.pdf"'}
    )


ROUTES = [household_letter]
