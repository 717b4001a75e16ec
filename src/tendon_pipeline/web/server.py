"""The web pages on the upload API's FastAPI app: what ``tendon serve`` serves.

Routes: ``/login`` and ``/logout``; ``/coach`` (the coach's athletes, worst first),
``/coach/athletes/{id}`` (charts and alert history; feedback forms post to
``.../feedback``); ``/runner`` (plan, charts, the check-in form posting to
``/runner/checkin``). Every form carries a CSRF token; a session is a signed cookie that
expires (``web.session_minutes``). A coach asking for an athlete who is not theirs gets 404,
as for one who does not exist; a runner asking for a coach page gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from tendon_pipeline.config.settings import Settings
from tendon_pipeline.web.app import WebPages
from tendon_pipeline.web.auth import SessionSigner
from tendon_pipeline.web.routes import register


def add_web_pages(app: FastAPI, settings: Settings, *, signer: SessionSigner | None = None) -> WebPages:
    """Add the sign-in, coach and runner pages to ``app`` (the upload API keeps its routes)."""
    pages = WebPages(settings, signer)
    register(app, pages)
    return pages


def create_web_app(settings: Settings, submit: Callable[[Any], Any] | None = None,
                   *, signer: SessionSigner | None = None) -> FastAPI:
    """The upload API (``connectors.sources.http_upload.create_app``) with the web pages on it."""
    from tendon_pipeline.connectors.sources.http_upload import create_app

    app = create_app(settings.upload, settings.inbox, submit)
    add_web_pages(app, settings, signer=signer)
    return app
