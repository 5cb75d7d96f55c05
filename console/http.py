"""The pages: static HTML and ES modules under static/, opened only by people
signed in with a role the page is for (console/core/pages.py).

A page is a frame; what it shows comes from the JSON API and the live feed,
called by the page with the person's cookie: a page can never show what the
API would refuse that person. No build step: the files are served as they
are in the repository.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from common.principal import Principal
from common.vocabulary import Role
from console.core.pages import home_of, may_open, nav_for, page_for
from web.auth import page_principal
from web.json_out import json_response

STATIC = Path(__file__).resolve().parent / "static"
PAGES = STATIC / "pages"
SIGN_IN = "/console/sign-in"

ROLE_NAMES = {
    Role.OPERATOR_110: "110 接警员",
    Role.OPERATOR_12345: "12345 话务员",
    Role.UNIT: "成员单位",
    Role.SUPERVISOR: "督查",
    Role.ADMIN: "管理员",
}

# Only our own files run and load; nothing from elsewhere, no inline script,
# no framing (clickjacking), no <base> games. connect-src 'self' covers the
# live feed's ws:/wss: on the same host.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", to_console)
    app.router.add_get("/console/", to_home)
    app.router.add_get(SIGN_IN, sign_in_page)
    app.router.add_get("/console/me", me)
    app.router.add_static("/console/static/", STATIC)
    app.router.add_get("/console/{page}", page)
    app.on_response_prepare.append(_page_headers)


async def to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/console/")


async def to_home(request: web.Request) -> web.StreamResponse:
    who = await page_principal(request)
    if not isinstance(who, Principal):
        raise _to_sign_in(None, who)
    raise web.HTTPSeeOther(f"/console/{home_of(who.role).name}")


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    if isinstance(await page_principal(request), Principal):
        raise web.HTTPSeeOther("/console/")  # already signed in
    return _file("sign-in.html")


async def page(request: web.Request) -> web.StreamResponse:
    name = request.match_info["page"]
    found = page_for(name)
    if found is None:
        return _file("not-found.html", status=404)
    who = await page_principal(request)
    if not isinstance(who, Principal):
        # Back to the same view after signing in, its query (a period, a filter) kept.
        query = f"?{request.query_string}" if request.query_string else ""
        raise _to_sign_in(f"/console/{name}{query}", who)
    if not may_open(who.role, found):
        return _file("refused.html", status=403)
    return _file(f"{name}.html")


async def me(request: web.Request) -> web.Response:
    """Who is signed in, and the pages their role may open (the navigation)."""
    who = await page_principal(request)
    if not isinstance(who, Principal):
        return json_response(
            {"error": {"code": "unauthorized", "message": "not signed in", "details": {}}},
            status=401,
        )
    return json_response(
        {
            "name": who.name,
            "role": who.role.value,
            "role_name": ROLE_NAMES.get(who.role, who.role.value),
            "phone": who.phone,
            "unit": who.unit,
            "home": f"/console/{home_of(who.role).name}",
            "pages": [{"name": p.name, "title": p.title} for p in nav_for(who.role)],
        },
        headers={"Cache-Control": "no-store"},
    )


def _to_sign_in(next_path: str | None, why: str | None) -> web.HTTPSeeOther:
    query = []
    if next_path:
        query.append(f"next={quote(next_path)}")
    if why:
        query.append(f"why={quote(why)}")
    return web.HTTPSeeOther(SIGN_IN + ("?" + "&".join(query) if query else ""))


def _file(name: str, status: int = 200) -> web.FileResponse:
    response = web.FileResponse(PAGES / name, status=status)
    response.headers["Cache-Control"] = "no-store"  # a page shows who is signed in
    response.content_type = "text/html"
    response.charset = "utf-8"
    return response


async def _page_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path == "/" or request.path.startswith("/console/"):
        response.headers.update(PAGE_HEADERS)
