"""Sign-in, sign-out, the language switch and the home page.

A successful sign-in keeps only the account's name in the session; the ``signed_in`` guard looks the
account up again on every request.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from salur_cases.api.console.accounts import SignIn, sign_in
from salur_cases.api.console.i18n import LANG_COOKIE, LANGS
from salur_cases.api.console.web import LOGIN_PATH, Query, Seen, Segment, page, signed_in

HOME = "/console/"
FORM = RequestEncodingType.URL_ENCODED


class SignInForm(msgspec.Struct):
    """The sign-in form (its CSRF token is checked by the middleware; other fields are ignored)."""

    name: Annotated[str, msgspec.Meta(max_length=100)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1000)] = ""


@get("/", include_in_schema=False)
async def root() -> Redirect:
    """The console is the site's first page."""
    return Redirect(HOME)


@get(LOGIN_PATH, include_in_schema=False)
async def login_page(viewer: Seen) -> Template:
    """The sign-in form."""
    return page(viewer, "login.html")


@post(LOGIN_PATH, include_in_schema=False, status_code=303)
async def login(
    viewer: Seen, request: Request[Any, Any, Any], data: Annotated[SignInForm, Body(media_type=FORM)]
) -> Template | Redirect:
    """Check the account and password; on success start the session and go home."""
    outcome, principal = await anyio.to_thread.run_sync(
        sign_in, viewer.ctx.runtime, data.name.strip(), data.password
    )
    if principal is None:
        message = {SignIn.LOCKED: "sign_in_locked", SignIn.DISABLED: "sign_in_disabled"}.get(
            outcome, "sign_in_wrong"
        )
        return page(
            viewer, "login.html", 401 if outcome is not SignIn.LOCKED else 423, error=message, name=data.name
        )
    request.set_session({"user": principal.subject})
    return Redirect(HOME, status_code=303)


@post("/console/logout", include_in_schema=False, status_code=303, guards=[signed_in()])
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    """End the session (its row is deleted) and go to the sign-in page."""
    request.clear_session()
    return Redirect(LOGIN_PATH, status_code=303)


@get("/console/lang/{lang:str}", include_in_schema=False)
async def switch_lang(lang: Segment, back: Query = None) -> Redirect:
    """Switch the console's language (``id`` or ``en``) and return to the page ``back``."""
    target = back if back and back.startswith("/console/") and "//" not in back else HOME
    response = Redirect(target, status_code=303)
    if lang in LANGS:
        response.set_cookie(
            LANG_COOKIE, lang, path="/", max_age=365 * 86400, samesite="strict", httponly=True
        )
    return response


@get(HOME, include_in_schema=False, guards=[signed_in()])
async def home(viewer: Seen) -> Template:
    """What the signed-in role can do: find a household, or inspect."""
    return page(viewer, "home.html")


ROUTES = [root, login_page, login, logout, switch_lang, home]
