"""intervals.icu: one athlete's activities and their original files, over plain ``httpx``.

Requests (intervals.icu API v1; what was checked against its documentation is in
docs/sources.md):

- auth: a personal API key as HTTP basic auth, user ``API_KEY``; or an OAuth access
  token as ``Authorization: Bearer``;
- ``GET /api/v1/athlete/{id}`` -- who the credential belongs to (``tendon link`` checks it);
- ``GET /api/v1/athlete/{id}/activities?oldest=&newest=&limit=`` -- activities between two
  local date-times, newest first. There is no cursor: when a page is full, the next page
  asks again with ``newest`` set to the oldest start on the page (ids already seen on the
  boundary are dropped);
- ``GET /api/v1/activity/{id}/file`` -- the original file as uploaded, gzip'd.

Failures: 401/403 -> :class:`~tendon_pipeline.errors.RelinkNeeded` (key revoked or wrong);
429 (with ``Retry-After``), 5xx, timeouts, dropped connections -> transient
:class:`~tendon_pipeline.errors.SourceError`; 404/422 on a file -> the activity has no
file (e.g. one imported from Strava, which intervals.icu may not pass on).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from tendon_pipeline.connectors.sources.remote import RemoteActivity
from tendon_pipeline.connectors.sources.sync_state import Link
from tendon_pipeline.errors import RelinkNeeded, SourceError

PROVIDER = "intervals"
_MAX_PAGES = 10_000


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _parse_start(item: dict[str, Any]) -> datetime | None:
    text = item.get("start_date") or item.get("start_date_local")
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class IntervalsAccount:
    """One linked intervals.icu athlete (a :class:`~.remote.RemoteAccount`)."""

    provider = PROVIDER

    def __init__(self, link: Link, *, base_url: str, timeout_s: float, page_size: int = 100,
                 request_gap_s: float = 0.1) -> None:
        self.link = link
        self.athlete = link.athlete
        self.page_size = page_size
        self.request_gap_s = request_gap_s
        self._last_request = float("-inf")
        secret = link.resolve_credential()
        auth = httpx.BasicAuth("API_KEY", secret) if link.auth == "api_key" else None
        headers = {"Authorization": f"Bearer {secret}"} if link.auth == "bearer" else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/api/v1", auth=auth, headers=headers,
                                  timeout=httpx.Timeout(timeout_s))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> IntervalsAccount:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------
    def _pace(self) -> None:
        """Keep under the service's rate limit instead of running into 429s."""
        wait = self._last_request + self.request_gap_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request = time.monotonic()

    def _get(self, path: str, **params: Any) -> httpx.Response:
        self._pace()
        try:
            response = self._http.get(path, params=params or None)
        except httpx.TimeoutException:
            raise SourceError(f"intervals.icu did not answer {path} in time", transient=True) from None
        except httpx.TransportError as exc:
            raise SourceError(f"intervals.icu cannot be reached ({type(exc).__name__})", transient=True) from None
        self._raise_for_status(response, path)
        return response

    def _raise_for_status(self, response: httpx.Response, path: str) -> None:
        status = response.status_code
        if status in (401, 403):
            raise RelinkNeeded(f"intervals.icu refuses the credential of {self.athlete} (HTTP {status})",
                               provider=PROVIDER, athlete=self.athlete,
                               hint=f"the API key was revoked or is wrong: make a new one (intervals.icu settings,"
                                    f" Developer Settings) and run `tendon link intervals --athlete {self.athlete}`")
        if status == 429:
            raise SourceError("intervals.icu rate limit reached (HTTP 429)", transient=True,
                              retry_after_s=retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 500:
            raise SourceError(f"intervals.icu server error (HTTP {status}) on {path}", transient=True,
                              retry_after_s=retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 400 and status not in (404, 422):
            raise SourceError(f"intervals.icu refused {path} (HTTP {status})", transient=False)

    # -- RemoteAccount ----------------------------------------------------------------
    def whoami(self) -> dict[str, Any]:
        """The athlete record the credential opens (``tendon link`` shows its id and name)."""
        response = self._get(f"/athlete/{self.link.remote_athlete}")
        if response.status_code in (404, 422):
            raise SourceError(f"intervals.icu has no athlete {self.link.remote_athlete!r}", transient=False,
                              hint="give the athlete id shown in intervals.icu settings (i12345)")
        return response.json()

    def activities_since(self, since: datetime) -> Iterator[RemoteActivity]:
        newest: str | None = None
        seen: set[str] = set()
        oldest = since.strftime("%Y-%m-%dT%H:%M:%S")
        for _ in range(_MAX_PAGES):
            params: dict[str, Any] = {"oldest": oldest, "limit": self.page_size}
            if newest:
                params["newest"] = newest
            page = self._get(f"/athlete/{self.link.remote_athlete}/activities", **params).json()
            fresh = [item for item in page if str(item.get("id")) not in seen]
            for item in fresh:
                seen.add(str(item["id"]))
                yield RemoteActivity(str(item["id"]), _parse_start(item), item.get("type"))
            starts = [str(i["start_date_local"]) for i in page if i.get("start_date_local")]
            if len(page) < self.page_size or not fresh or not starts:
                return
            newest = min(starts)

    def download(self, activity: RemoteActivity) -> bytes:
        response = self._get(f"/activity/{activity.remote_id}/file")
        return b"" if response.status_code in (404, 422) else response.content
