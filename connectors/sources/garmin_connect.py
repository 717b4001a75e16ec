"""Garmin Connect: one athlete's activities and their original files, with ``garminconnect``.

The maintained, unofficial ``garminconnect`` library does the talking: the login
(``tendon link garmin``: e-mail, password and the MFA code once; the library writes its
OAuth tokens to a per-athlete token store and refreshes them), the activity list
(``/activitylist-service/activities/search/activities``, 20 at a time, paged with
``start``) and the original-format download (``/download-service/files/activity/{id}``,
a zip holding the FIT file). The password is never stored: later syncs use the tokens.

The library is unofficial and breaks when Garmin changes its login. Every failure is
classified here, never left to crash a run or retried in a storm:

- the tokens refused (401/403 after the library's own refresh), missing or unreadable,
  an authentication error, or anything unexpected from the library during login ->
  :class:`~tendon_pipeline.errors.RelinkNeeded` (terminal);
- 429, 5xx, timeouts, dropped connections -> transient
  :class:`~tendon_pipeline.errors.SourceError` (the library does not expose
  ``Retry-After``: the sync's doubling back-off applies).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from tendon_pipeline.connectors.sources.remote import RemoteActivity
from tendon_pipeline.errors import RelinkNeeded, SourceError

PROVIDER = "garmin"
TOKEN_FILE = "garmin_tokens.json"
T = TypeVar("T")
_UPGRADE = ("if linking fails too, Garmin may have changed its login:"
            " upgrade garminconnect (pip install -U garminconnect)")


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    while exc is not None and len(found) < 10:
        found.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return found


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status in a garminconnect error ("API Error 503 - ...") or a requests error."""
    for link in _chain(exc):
        response = getattr(link, "response", None)
        if getattr(response, "status_code", None):
            return int(response.status_code)
        text = str(link)
        if "API Error " in text:
            digits = text.split("API Error ", 1)[1][:3]
            if digits.isdigit():
                return int(digits)
    return None


def classify(exc: Exception, athlete: str, *, during_login: bool) -> SourceError:
    """One garminconnect / requests failure as a :class:`SourceError`."""
    import requests
    from garminconnect import GarminConnectAuthenticationError, GarminConnectTooManyRequestsError

    status = _http_status(exc)
    chain = _chain(exc)
    if status == 429 or any(isinstance(e, GarminConnectTooManyRequestsError) for e in chain):
        return SourceError("Garmin Connect rate limit reached (HTTP 429)", transient=True)
    if status is not None and status >= 500:
        return SourceError(f"Garmin Connect server error (HTTP {status})", transient=True)
    if any(isinstance(e, (requests.Timeout, requests.ConnectionError)) for e in chain):
        return SourceError("Garmin Connect cannot be reached or did not answer in time", transient=True)
    if status in (401, 403) or during_login or any(isinstance(e, GarminConnectAuthenticationError) for e in chain):
        return RelinkNeeded(f"Garmin Connect refuses the stored login of {athlete}"
                            + (f" (HTTP {status})" if status else f" ({type(exc).__name__})"),
                            provider=PROVIDER, athlete=athlete,
                            hint=f"re-link needed: run `tendon link garmin --athlete {athlete}`; {_UPGRADE}")
    return SourceError(f"Garmin Connect request failed ({type(exc).__name__}"
                       + (f", HTTP {status}" if status else "") + ")", transient=False, hint=_UPGRADE)


def _parse_start(item: dict[str, Any]) -> datetime | None:
    text = item.get("startTimeGMT")
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)
    except ValueError:
        return None


class GarminAccount:
    """One linked Garmin Connect athlete (a :class:`~.remote.RemoteAccount`), logged in from its token store."""

    provider = PROVIDER

    def __init__(self, athlete: str, token_dir: Path, *, domain: str = "garmin.com") -> None:
        from garminconnect import Garmin

        self.athlete = athlete
        if not (Path(token_dir) / TOKEN_FILE).is_file():
            raise RelinkNeeded(f"no Garmin Connect login stored for {athlete}", provider=PROVIDER, athlete=athlete)
        self._api = Garmin(is_cn=domain == "garmin.cn")
        self._call(lambda: self._api.login(tokenstore=str(token_dir)), during_login=True)

    def _call(self, call: Callable[[], T], *, during_login: bool = False) -> T:
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - every library failure is classified, none escapes raw
            raise classify(exc, self.athlete, during_login=during_login) from None

    @property
    def display_name(self) -> str | None:
        return getattr(self._api, "display_name", None)

    def activities_since(self, since: datetime) -> Iterator[RemoteActivity]:
        items = self._call(lambda: self._api.get_activities_by_date(since.date().isoformat(), None,
                                                                    sortorder="asc"))
        for item in items:
            if item.get("activityId") is None:
                continue
            sport = (item.get("activityType") or {}).get("typeKey")
            yield RemoteActivity(str(item["activityId"]), _parse_start(item), sport)

    def download(self, activity: RemoteActivity) -> bytes:
        from garminconnect import Garmin

        return self._call(lambda: self._api.download_activity(activity.remote_id,
                                                              dl_fmt=Garmin.ActivityDownloadFormat.ORIGINAL))


def login_with_password(athlete: str, token_dir: Path, email: str, password: str,
                        prompt_mfa: Callable[[], str], *, domain: str = "garmin.com") -> GarminAccount:
    """``tendon link garmin``: log in once (MFA code asked by ``prompt_mfa`` if the account has it);
    the library writes the tokens to ``token_dir``. The password is not kept."""
    from garminconnect import Garmin

    api = Garmin(email=email, password=password, is_cn=domain == "garmin.cn", prompt_mfa=prompt_mfa)
    try:
        api.login(tokenstore=str(token_dir))
    except Exception as exc:  # noqa: BLE001 - classified: wrong password, MFA refused, login changed, 429
        raise classify(exc, athlete, during_login=True) from None
    return GarminAccount(athlete, token_dir, domain=domain)


def import_tokens(athlete: str, token_dir: Path, token_file: Path, *, domain: str = "garmin.com") -> GarminAccount:
    """``tendon link garmin --token-file``: adopt tokens garminconnect wrote elsewhere, then check them."""
    source = Path(token_file).expanduser()
    if source.is_dir():
        source = source / TOKEN_FILE
    if not source.is_file():
        raise SourceError(f"no Garmin token file at {source}", transient=False,
                          hint=f"give the {TOKEN_FILE} written by garminconnect's login")
    target = Path(token_dir) / TOKEN_FILE
    shutil.copyfile(source, target)
    target.chmod(0o600)
    return GarminAccount(athlete, token_dir, domain=domain)
