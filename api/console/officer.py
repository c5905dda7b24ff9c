"""Officers' pages: find a household by NIK or No. KK, read it, explain it, and decide on it.

A household's page is addressed by its keyed id (never a NIK or No. KK in a URL). Kelurahan
officers reach only households of their own kelurahan, by search or by URL, as in the API. Each
decision form carries the version the page showed; when another officer changed the household
since, nothing is written and the page shows the new state (the application's optimistic check).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError
from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Response, Template

from salur_cases import wilayah
from salur_cases.api.common import kelurahan_of_view
from salur_cases.api.console.web import (
    OFFICERS,
    Query,
    Seen,
    Segment,
    optional_number,
    page,
    signed_in,
)
from salur_cases.domain.commands import DecideVerval, FileComplaint, ResolveComplaint
from salur_cases.domain.errors import InvalidCommand, Refusal, StaleVersion
from salur_cases.domain.household import Household
from salur_cases.domain.parsing import parse_nik, parse_no_kk
from salur_cases.domain.vocabulary import Role, VervalDecision
from salur_cases.identifiers import InvalidIdentifier, Nik, NoKK
from salur_cases.processes import complaints, verval
from salur_cases.projections import queries
from salur_cases.projections.explain import explain
from salur_cases.projections.letter import letter
from salur_cases.projections.narration import event_sentence
from salur_cases.projections.schemas import HouseholdRead
from salur_cases.projections.views import household_view

FORM = RequestEncodingType.URL_ENCODED
READERS = signed_in(*OFFICERS)
TIMELINE_READERS = (Role.DINSOS, Role.INSPECTOR)
TIMELINE_LIMIT = 500
Text = Annotated[str, msgspec.Meta(max_length=5000)]


class SearchForm(msgspec.Struct):
    """A NIK or a No. KK, posted so that it stays out of URLs and logs."""

    identifier: Annotated[str, msgspec.Meta(max_length=40)] = ""


class VervalForm(msgspec.Struct):
    """A verval decision, with the household version the page showed."""

    version: int
    decision: VervalDecision
    reason: Text
    officer: Annotated[str, msgspec.Meta(max_length=200)]
    decided_on: date


class ComplaintForm(msgspec.Struct):
    """An aduan, with the household version the page showed."""

    version: int
    channel: Annotated[str, msgspec.Meta(max_length=100)]
    text: Text


class ResolutionForm(msgspec.Struct):
    """The answer to an aduan, with the household version the page showed."""

    version: int
    outcome: Annotated[str, msgspec.Meta(max_length=100)]
    note: Text


def household_ref(viewer: Seen, no_kk: str) -> str:
    """The household's address in the console: its keyed id."""
    return viewer.ctx.runtime.app.household_id(no_kk).hex


def _household(viewer: Seen, ref: str) -> Household:
    """The household ``ref`` names (404 when none), once the viewer may see its kelurahan (403)."""
    try:
        aggregate: object = viewer.ctx.runtime.app.repository.get(UUID(hex=ref))
    except (ValueError, AggregateNotFoundError):
        raise NotFoundException("no such household") from None
    if not isinstance(aggregate, Household):
        raise NotFoundException("no such household")
    _check_scope(viewer, household_view(aggregate))
    return aggregate


def _check_scope(viewer: Seen, view: HouseholdRead) -> None:
    if viewer.principal is None or not viewer.principal.may_see(kelurahan_of_view(view)):
        raise PermissionDeniedException("outside")


@get("/console/search", guards=[READERS], include_in_schema=False)
async def search_page(viewer: Seen) -> Template:
    """The search form."""
    return page(viewer, "search.html")


@post("/console/search", guards=[READERS], include_in_schema=False, sync_to_thread=True, status_code=303)
def search(viewer: Seen, data: Annotated[SearchForm, Body(media_type=FORM)]) -> Template | Redirect:
    """Find the household of a No. KK, or of a NIK (exact); kelurahan officers only within theirs."""
    runtime = viewer.ctx.runtime
    number = "".join(data.identifier.split())
    try:
        no_kk = parse_no_kk(number, "identifier")
        view = household_view(runtime.app.household(no_kk))
    except (InvalidIdentifier, InvalidCommand, Refusal):
        view = None
    if view is None:
        try:
            view = queries.household_of_nik(runtime, parse_nik(number, "identifier"))
        except (InvalidIdentifier, InvalidCommand):
            return page(viewer, "search.html", 422, error="bad_number")
    if view is None:
        return page(viewer, "search.html", 404, error="not_found")
    if viewer.principal is None or not viewer.principal.may_see(kelurahan_of_view(view)):
        return page(viewer, "search.html", 403, error="outside")
    return Redirect(f"/console/households/{household_ref(viewer, view.no_kk)}", status_code=303)


def _grid(view: dict[str, Any]) -> tuple[list[int], list[dict[str, Any]]]:
    """Programs by tahap: the tahap numbers, and per program its cells (state and amount) by tahap."""
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    for seat in view["programs"]:
        rows.setdefault(seat["program"], {})[seat["tahap"]] = seat
    tahap = sorted({n for cells in rows.values() for n in cells})
    return tahap, [{"program": p, "cells": cells} for p, cells in sorted(rows.items())]


def household_context(
    viewer: Seen,
    household: Household,
    program: str | None = None,
    from_tahap: int | None = None,
    to_tahap: int | None = None,
) -> dict[str, Any]:
    """What the household page (and its letter) shows."""
    runtime = viewer.ctx.runtime
    viewer.ctx.positions.wait(runtime, None)
    view = msgspec.to_builtins(household_view(household))
    address = view.get("address") or {}
    place = wilayah.kelurahan(address["kelurahan"]) if address.get("kelurahan") else None
    members = [{**m, "masked_nik": Nik(m["nik"]).masked()} for m in view["members"]]
    tahap, grid = _grid(view)
    timeline = []
    if viewer.may(*TIMELINE_READERS):
        events = queries.household_events(runtime, household.no_kk, TIMELINE_LIMIT)
        names = queries.program_names(runtime)
        timeline = [
            {"event_id": item.event_id, "text": event_sentence(msgspec.to_builtins(item), viewer.lang, names)}
            for item in events.items
        ]
    try:
        answer: dict[str, Any] | None = explain(
            runtime,
            household.no_kk,
            program=program or None,
            from_tahap=from_tahap,
            to_tahap=to_tahap,
            lang=viewer.lang,
        )
        explain_error = None
    except (InvalidCommand, Refusal) as error:
        answer, explain_error = None, str(error)
    return {
        "ref": household.id.hex,
        "view": view,
        "masked_no_kk": NoKK(household.no_kk).masked(),
        "address": address,
        "place": place,
        "members": members,
        "tahap": tahap,
        "grid": grid,
        "timeline": timeline,
        "answer": answer,
        "explain_error": explain_error,
        "chosen": {"program": program or "", "from_tahap": from_tahap, "to_tahap": to_tahap},
        "open_complaints": [c for c in view["complaints"] if not c["outcome"]],
        "today": date.today().isoformat(),
    }


@get("/console/households/{ref:str}", guards=[READERS], include_in_schema=False, sync_to_thread=True)
def household_page(
    viewer: Seen,
    ref: Segment,
    program: Query = None,
    from_tahap: Query = None,
    to_tahap: Query = None,
    saved: Query = None,
) -> Template:
    """Members, address, programs by tahap, the timeline, the explanation and the allowed actions."""
    household = _household(viewer, ref)
    context = household_context(
        viewer,
        household,
        program,
        optional_number(from_tahap, "from_tahap"),
        optional_number(to_tahap, "to_tahap"),
    )
    return page(viewer, "household.html", saved=saved == "true", **context)


@get("/console/households/{ref:str}/letter", guards=[READERS], include_in_schema=False, sync_to_thread=True)
def letter_pdf(
    viewer: Seen,
    ref: Segment,
    program: Query = None,
    from_tahap: Query = None,
    to_tahap: Query = None,
) -> Response[bytes]:
    """The explanation as the printable PDF letter (the API's ``/letter``), in the console's language."""
    household = _household(viewer, ref)
    pdf = letter(
        viewer.ctx.runtime,
        household.no_kk,
        program=program or None,
        from_tahap=optional_number(from_tahap, "from_tahap"),
        to_tahap=optional_number(to_tahap, "to_tahap"),
        lang=viewer.lang,
    )
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": 'inline; filename="surat.pdf"'}
    )


def _decide(viewer: Seen, ref: str, write: Any) -> Template | Redirect:
    """Run ``write(no_kk, actor)`` on the household; a stale page or a refusal re-shows it with why."""
    household = _household(viewer, ref)
    assert viewer.principal is not None  # noqa: S101 - the guard signed the viewer in
    try:
        outcome = write(household.no_kk, viewer.principal.actor)
    except StaleVersion:
        current = _household(viewer, ref)
        return page(viewer, "household.html", 409, notice="stale", **household_context(viewer, current))
    except Refusal as refusal:
        return page(
            viewer,
            "household.html",
            409,
            notice="refused",
            detail=refusal.message,
            **household_context(viewer, household),
        )
    viewer.ctx.positions.wrote(outcome.position)
    return Redirect(f"/console/households/{ref}?saved=true", status_code=303)


@post(
    "/console/households/{ref:str}/verval",
    guards=[signed_in(Role.DINSOS, Role.KELURAHAN)],
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def decide_verval(
    viewer: Seen, ref: Segment, data: Annotated[VervalForm, Body(media_type=FORM)]
) -> Template | Redirect:
    """Record a verval decision; the actor is the signed-in officer."""
    app = viewer.ctx.runtime.app
    return _decide(
        viewer,
        ref,
        lambda no_kk, actor: verval.decide_verval(
            app,
            no_kk,
            DecideVerval(data.decision, data.reason, data.officer, data.decided_on),
            actor,
            expected_version=data.version,
        ),
    )


@post(
    "/console/households/{ref:str}/complaints",
    guards=[signed_in(Role.DINSOS, Role.KELURAHAN)],
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def file_complaint(
    viewer: Seen, ref: Segment, data: Annotated[ComplaintForm, Body(media_type=FORM)]
) -> Template | Redirect:
    """File an aduan."""
    app = viewer.ctx.runtime.app
    return _decide(
        viewer,
        ref,
        lambda no_kk, actor: complaints.file_complaint(
            app, no_kk, FileComplaint(data.channel, data.text), actor, expected_version=data.version
        )[1],
    )


@post(
    "/console/households/{ref:str}/complaints/{complaint_id:str}/resolution",
    guards=[signed_in(Role.DINSOS)],
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def resolve_complaint(
    viewer: Seen, ref: Segment, complaint_id: Segment, data: Annotated[ResolutionForm, Body(media_type=FORM)]
) -> Template | Redirect:
    """Answer an aduan."""
    app = viewer.ctx.runtime.app
    return _decide(
        viewer,
        ref,
        lambda no_kk, actor: complaints.resolve_complaint(
            app,
            no_kk,
            complaint_id,
            ResolveComplaint(data.outcome, data.note),
            actor,
            expected_version=data.version,
        ),
    )


ROUTES = [search_page, search, household_page, letter_pdf, decide_verval, file_complaint, resolve_complaint]
