"""The pages' routes (see ``web/app.py`` for what each one does)."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tendon_pipeline.app.logbook import LogResult
from tendon_pipeline.domain.exercises import EXERCISE_KINDS, VARIANTS
from tendon_pipeline.domain.models import WeekPlan
from tendon_pipeline.errors import NotFound, TendonError
from tendon_pipeline.report.coach import find_coach
from tendon_pipeline.warehouse.feedback import OUTCOME_LABELS, FeedbackOutcome, UnknownAlertError, record_feedback
from tendon_pipeline.warehouse.history import read_plan
from tendon_pipeline.web.app import (
    LOGIN_NONCE_COOKIE,
    SECURITY_HEADERS,
    WebPages,
    login_redirect,
    plotly_js,
    read_form,
    safe_next,
)
from tendon_pipeline.web.auth import same, verify_password
from tendon_pipeline.web.checkin import CheckIn, CheckInError, parse_checkin, record_checkin

_log = logging.getLogger(__name__)


def register(app: FastAPI, pages: WebPages) -> None:
    settings = pages.settings

    def failure(exc: TendonError, session=None) -> HTMLResponse:
        status = 503 if exc.transient else 500
        _log.warning("web page failed: %s", exc)
        return pages.render("error.html.j2", status, session=session, title="Something went wrong",
                            message=str(exc), retry=exc.transient)

    def forbidden(session, message: str, status: int = 403) -> HTMLResponse:
        return pages.render("error.html.j2", status, session=session,
                            title="Not found" if status == 404 else "Not allowed", message=message, retry=False)

    def csrf_ok(session, form: dict[str, str]) -> bool:
        return same(form.get("csrf"), session.csrf)

    # -- sign-in -----------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        found = pages.session_of(request)
        if found is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse("/coach" if found[1].role == "coach" else "/runner", status_code=303)

    def login_page(request: Request, status: int = 200, error: str | None = None, name: str = "") -> HTMLResponse:
        nonce = secrets.token_urlsafe(24)
        response = pages.render("login.html.j2", status, title="Sign in", error=error, name=name,
                                csrf=pages.signer.csrf_for_anonymous(nonce),
                                next=safe_next(request.query_params.get("next")))
        response.set_cookie(LOGIN_NONCE_COOKIE, nonce, max_age=3600, path="/login", httponly=True, samesite="lax",
                            secure=settings.web.cookie_secure)
        return response

    @app.get("/login", include_in_schema=False)
    async def login_form(request: Request) -> Response:
        return login_page(request)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await read_form(request)
        if form is None:
            return login_page(request, 413, "the form is too large")
        nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
        if not nonce or not same(form.get("csrf"), pages.signer.csrf_for_anonymous(nonce)):
            return login_page(request, 403, "the form expired: please sign in again")
        name, password = form.get("name", "").strip(), form.get("password", "")
        user = settings.web.user(name) if name else None
        hashed = user.password_hash.get_secret_value() if user else None
        if not await _run(verify_password, password, hashed) or user is None:
            return login_page(request, 401, "wrong name or password", name=name)
        session = pages.signer.new(user.name, user.role, hashed)
        response = RedirectResponse(safe_next(form.get("next")), status_code=303)
        response.delete_cookie(LOGIN_NONCE_COOKIE, path="/login")
        return pages.set_session(response, session)

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        found = pages.session_of(request)
        form = await read_form(request) or {}
        if found is not None and not csrf_ok(found[0], form):
            return forbidden(found[0], "the form expired: reload the page and try again")
        return pages.set_session(RedirectResponse("/login", status_code=303), None)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    async def plotly() -> Response:
        return Response(plotly_js(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})

    def session_for(request: Request, role: str, refusal: str):
        """(session, user) of a signed-in person in ``role``, else the response that refuses."""
        found = pages.session_of(request)
        if found is None:
            return None, login_redirect(request)
        session, user = found
        if user.role != role:
            return None, forbidden(session, refusal)
        return found, None

    # -- coach ---------------------------------------------------------------------
    def coach_session(request: Request):
        return session_for(request, "coach", "this page is for coaches")

    def coach_athletes(user) -> list[str]:
        return list(dict.fromkeys(find_coach(settings, user.coach).athletes))

    @app.get("/coach", include_in_schema=False)
    async def coach_board_page(request: Request) -> Response:
        found, refusal = coach_session(request)
        if refusal:
            return refusal
        session, user = found
        from tendon_pipeline.web.pages import coach_entries

        try:
            entries = await pages.with_warehouse(coach_entries, settings, user.coach)
        except TendonError as exc:
            return failure(exc, session)
        return pages.render("coach.html.j2", session=session, title=f"Coach {user.coach}", entries=entries)

    @app.get("/coach/athletes/{athlete}", include_in_schema=False)
    async def athlete_page(request: Request, athlete: str) -> Response:
        found, refusal = coach_session(request)
        if refusal:
            return refusal
        session, user = found
        if athlete not in coach_athletes(user):
            return forbidden(session, "no athlete of yours has that id", 404)
        from tendon_pipeline.web.pages import athlete_page as gather

        try:
            page = await pages.with_warehouse(gather, settings, athlete)
        except TendonError as exc:
            return failure(exc, session)
        if page is None:
            return pages.render("athlete.html.j2", session=session, title=athlete, athlete=athlete, page=None)
        response = pages.render("athlete.html.j2", session=session, title=page.data.display_name or athlete,
                                athlete=athlete, page=page, outcomes=OUTCOME_LABELS, flash=session.flash)
        return _clear_flash(pages, response, session)

    @app.post("/coach/athletes/{athlete}/feedback", include_in_schema=False)
    async def feedback(request: Request, athlete: str) -> Response:
        found, refusal = coach_session(request)
        if refusal:
            return refusal
        session, user = found
        form = await read_form(request)
        if form is None or not csrf_ok(session, form):
            return forbidden(session, "the form expired: reload the page and try again")
        if athlete not in coach_athletes(user):
            return forbidden(session, "no athlete of yours has that id", 404)
        try:
            outcome = FeedbackOutcome(form.get("outcome", ""))
        except ValueError:
            return forbidden(session, "choose acted on, not needed or false alarm", 400)
        key = form.get("alert_key", "")
        try:
            saved = await pages.with_warehouse(record_feedback, athlete, key, outcome, user.name, form.get("note"))
        except UnknownAlertError:
            return forbidden(session, "that alert does not exist for this athlete", 404)
        except TendonError as exc:
            return failure(exc, session)
        anchor = "alert-" + "".join(c if c.isalnum() else "-" for c in key)
        response = RedirectResponse(f"/coach/athletes/{athlete}#{anchor}", status_code=303)
        return pages.set_session(response, session.with_flash(f"Saved: {saved.label} ({saved.alert_key})"))

    # -- runner ----------------------------------------------------------------------
    def runner_session(request: Request):
        return session_for(request, "runner", "this page is for runners: coaches see their athletes under /coach")

    def runner_view(wh, athlete: str) -> dict[str, Any]:
        from tendon_pipeline.web.pages import athlete_page as gather
        from tendon_pipeline.web.pages import plan_downloads

        page = gather(wh, settings, athlete)
        return {"page": page, "plan": read_plan(wh, athlete), "downloads": plan_downloads(wh, settings, athlete)}

    async def render_runner(session, user, *, status: int = 200, errors=None, form=None) -> Response:
        try:
            view = await pages.with_warehouse(runner_view, user.athlete)
        except TendonError as exc:
            return failure(exc, session)
        flash = session.flash
        response = pages.render("runner.html.j2", status, session=session, title="Your plan and check-in",
                                athlete=user.athlete, errors=errors or {}, form=form or {}, flash=flash,
                                exercises=EXERCISE_KINDS, variants=VARIANTS, **view)
        return _clear_flash(pages, response, session)

    async def download(session, athlete: str, name: str) -> Response:
        from tendon_pipeline.app.plan_export import plan_export

        try:
            export = await pages.with_warehouse(plan_export, settings, athlete)
            found = export.file(name)
        except NotFound as exc:
            return forbidden(session, str(exc), 404)
        except TendonError as exc:
            return failure(exc, session)
        return Response(found.content, media_type=found.media_type,
                        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{found.name}"'})

    @app.get("/runner/plan/{name}", include_in_schema=False)
    async def runner_download(request: Request, name: str) -> Response:
        found, refusal = runner_session(request)
        if refusal:
            return refusal
        return await download(found[0], found[1].athlete, name)

    @app.get("/coach/athletes/{athlete}/plan/{name}", include_in_schema=False)
    async def coach_download(request: Request, athlete: str, name: str) -> Response:
        found, refusal = coach_session(request)
        if refusal:
            return refusal
        if athlete not in coach_athletes(found[1]):
            return forbidden(found[0], "no athlete of yours has that id", 404)
        return await download(found[0], athlete, name)

    @app.get("/runner", include_in_schema=False)
    async def runner_page(request: Request) -> Response:
        found, refusal = runner_session(request)
        if refusal:
            return refusal
        return await render_runner(*found)

    @app.post("/runner/checkin", include_in_schema=False)
    async def checkin(request: Request) -> Response:
        found, refusal = runner_session(request)
        if refusal:
            return refusal
        session, user = found
        form = await read_form(request)
        if form is None or not csrf_ok(session, form):
            return forbidden(session, "the form expired: reload the page and try again")
        try:
            parsed = parse_checkin(form, user.athlete, settings)
        except CheckInError as exc:
            return await render_runner(session, user, status=422, errors=exc.errors, form=form)
        try:
            result = await pages.with_warehouse(record_checkin, settings, parsed)
        except TendonError as exc:
            return failure(exc, session)
        return pages.set_session(RedirectResponse("/runner#plan", status_code=303),
                                 session.with_flash(_checkin_flash(parsed, result)))


def _checkin_flash(checkin: CheckIn, result: LogResult) -> str:
    after = result.evaluation.plan
    now = _plan_words(after)
    before = result.plan_before
    if before is None:
        change = f"Plan for the week of {after.week_start}: {now}."
    else:
        was = _plan_words(before)
        change = f"Plan unchanged: {now}." if was == now else f"Plan changed: was {was}, now {now}."
    new = result.evaluation.new_alerts
    alerts = f" {len(new)} new alert(s)." if new else ""
    return f"Saved {checkin.day}: {'; '.join(checkin.summary())}. {change}{alerts}"


def _plan_words(plan: WeekPlan) -> str:
    return (f"{plan.target_km_low:.1f}-{plan.target_km_high:.1f} km, long run at most {plan.long_run_cap_km:.1f} km"
            f" ({plan.status})")


def _clear_flash(pages: WebPages, response: Response, session) -> Response:
    return pages.set_session(response, session.with_flash(None)) if session.flash else response


async def _run(fn, *args):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


__all__ = ["register", "SECURITY_HEADERS"]
