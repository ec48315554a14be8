"""The web playground: a static page (no build step) that streams speech over SSE and plays it."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from ttsgate.exceptions import NotFoundError

router = APIRouter(include_in_schema=False)

_FILES = {"playground.html": "text/html; charset=utf-8", "playground.js": "text/javascript; charset=utf-8"}


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/playground/")


@router.get("/playground")
async def playground_slash() -> RedirectResponse:
    return RedirectResponse("/playground/")


@router.get("/playground/{name}")
@router.get("/playground/", name="playground_index")
async def playground(name: str = "playground.html") -> Response:
    media_type = _FILES.get(name)
    if media_type is None:
        raise NotFoundError(f"no playground file {name!r}")
    data = resources.files("ttsgate").joinpath("static", name).read_bytes()
    return Response(data, media_type=media_type, headers={"Cache-Control": "no-cache"})
