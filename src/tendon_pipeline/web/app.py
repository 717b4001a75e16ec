"""The web pages' plumbing: settings, sessions, one warehouse user at a time, rendering
(the routes are in ``routes.py``; ``server.py`` puts them on the upload API's app).

"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from tendon_pipeline.config.settings import Settings
from tendon_pipeline.config.web import WebUser
from tendon_pipeline.errors import ConfigError
from tendon_pipeline.web.auth import Session, SessionSigner, fingerprint, same

SESSION_COOKIE = "tendon_session"
LOGIN_NONCE_COOKIE = "tendon_login"
FORM_MAX_BYTES = 64 * 1024
SECURITY_HEADERS = {"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff"}


@lru_cache(maxsize=1)
def templates() -> Environment:
    env = Environment(loader=PackageLoader("tendon_pipeline.web", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["label"] = lambda text: str(text).replace("_", " ")
    return env


@lru_cache(maxsize=1)
def plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8")


def check_users(settings: Settings) -> None:
    """Every coach user names a [[coaches]] entry (else a ConfigError before the server starts)."""
    coaches = {c.name for c in settings.coaches}
    for user in settings.web.users:
        if user.role == "coach" and user.coach not in coaches:
            known = ", ".join(sorted(coaches)) or "none configured"
            raise ConfigError(f"web user {user.name!r} is coach {user.coach!r}, but no [[coaches]] entry has that name"
                              f" (coaches: {known})", hint="fix web.users[].coach or add the [[coaches]] entry")


def session_signer(settings: Settings) -> SessionSigner:
    key = settings.web.session_key
    raw = key.get_secret_value().encode("utf-8") if key is not None else secrets.token_bytes(32)
    return SessionSigner(raw, settings.web.session_minutes * 60)


class WebPages:
    """The pages' state: settings, the session signer and one warehouse user at a time."""

    def __init__(self, settings: Settings, signer: SessionSigner | None = None) -> None:
        check_users(settings)
        self.settings = settings
        self.signer = signer or session_signer(settings)
        self._warehouse_lock = threading.Lock()

    # -- plumbing --------------------------------------------------------------
    @contextmanager
    def warehouse(self) -> Iterator[Any]:
        """The warehouse for one request (writable: in one process DuckDB cannot mix read-only and
        writable connections to one file, and the upload side writes); one request at a time."""
        from tendon_pipeline.warehouse.store import open_warehouse

        with self._warehouse_lock, open_warehouse(self.settings.location) as wh:
            yield wh

    async def with_warehouse(self, fn: Callable[..., Any], *args: Any) -> Any:
        def run() -> Any:
            with self.warehouse() as wh:
                return fn(wh, *args)
        return await run_in_threadpool(run)

    def render(self, template: str, status: int = 200, *, session: Session | None = None,
               **context: Any) -> HTMLResponse:
        user = self.settings.web.user(session.user) if session else None
        html = templates().get_template(template).render(session=session, user=user, **context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def set_session(self, response: Response, session: Session | None) -> Response:
        if session is None:
            response.delete_cookie(SESSION_COOKIE, path="/")
        else:
            response.set_cookie(SESSION_COOKIE, self.signer.dumps(session), max_age=self.signer.max_age_s, path="/",
                                httponly=True, samesite="lax", secure=self.settings.web.cookie_secure)
        return response

    def session_of(self, request: Request) -> tuple[Session, WebUser] | None:
        session = self.signer.loads(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        user = self.settings.web.user(session.user)
        if user is None or user.role != session.role:
            return None
        if not same(fingerprint(user.password_hash.get_secret_value()), session.password_fingerprint):
            return None  # the password changed since this sign-in
        return session, user


async def read_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form (first value of each field); None when too large."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_MAX_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

