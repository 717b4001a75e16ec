"""Every real-world channel through Apprise: Slack, Teams, Discord, ntfy, email, JSON webhooks...

Apprise reports failure as ``False`` plus log lines; this wrapper turns that into a
:class:`DeliveryError` that says whether a retry can help. The rule (documented in
docs/notifications.md), applied to what Apprise logged while sending:

1. the URL cannot be parsed, or its plugin cannot be built or is unavailable here: permanent;
2. an HTTP status was logged (``error=NNN``, every HTTP plugin logs it): 408, 425, 429 and
   5xx are transient, any other status (4xx, 3xx) is permanent;
3. an SMTP reply code was logged (``(NNN, b'...')``): 4xx transient, 5xx permanent;
4. a connection error, timeout or DNS failure: transient;
5. failure without any detail: transient (retried with backoff, and given up after the
   retry window, so it is never retried forever).

While sending, the log records of Apprise, urllib3 and requests are captured and not
propagated (Apprise's trace lines hold full URLs with passwords, urllib3 logs request paths,
which are often the secret of a webhook); only a scrubbed summary is kept.

JSON webhooks (``json://`` / ``jsons://``) get the idempotency key and the structured
alert in the body (Apprise's payload extras) and an ``Idempotency-Key`` header; emails
carry an ``X-Tendon-Idempotency-Key`` header.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel, ConfigDict, SecretStr

from . import secret_ref
from .base import DeliveryError, Notification, Notifier

_SEND_LOCK = threading.Lock()  # the apprise logger is global: one capture at a time
_HTTP_STATUS = re.compile(r"error=(\d{3})\b")
_SMTP_REPLY = re.compile(r"\((\d{3}), b?['\"]")
_CONNECTION = re.compile(
    r"connection error|connection refused|connection reset|timed out|timeout|name or service not known"
    r"|temporary failure in name resolution|network is unreachable|no route to host|errno", re.I)
_TRANSIENT_HTTP = {408, 425, 429}
_JSON_SCHEMES = {"json", "jsons"}
_MAIL_SCHEMES = {"mailto", "mailtos"}


class AppriseConfig(BaseModel):
    """One Apprise URL (or ``env:`` / ``prefect-secret:`` reference to it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: SecretStr


class AppriseNotifier(Notifier):
    def __init__(self, config: AppriseConfig) -> None:
        self.config = config
        self.name = secret_ref.mask(config.url)

    def send(self, message: Notification) -> None:
        url = secret_ref.resolve(self.config.url)
        hidden = secret_ref.fragments(url)
        problem: DeliveryError | None = None
        with _SEND_LOCK, _captured_apprise_log() as lines:
            plugin = self._plugin(url, message)
            if plugin is None:
                problem = DeliveryError(f"{self.name}: not a usable Apprise URL", transient=False,
                                        hint="check the URL syntax: https://appriseit.com/services/")
            elif not plugin.enabled:
                problem = DeliveryError(f"{self.name}: this Apprise channel is not available here"
                                        " (missing optional dependency)", transient=False)
            else:
                try:
                    ok = plugin.notify(body=message.body, title=message.subject,
                                       notify_type=_notify_type(message.severity), body_format=_text())
                except Exception as exc:  # noqa: BLE001 - a plugin bug must not kill the run
                    lines.append(f"plugin raised {type(exc).__name__}")
                    ok = False
                if not ok:
                    problem = classify(self.name, [secret_ref.scrub(line, hidden) for line in lines])
        if problem is not None:
            raise problem

    @staticmethod
    def _plugin(url: str, message: Notification):
        import apprise
        from apprise.plugins import url_to_dict

        results = url_to_dict(url, secure_logging=True)
        if not results:
            return None
        schema = str(results.get("schema", "")).lower()
        if schema in _JSON_SCHEMES:
            results["payload"] = {**(results.get("payload") or {}),
                                  "idempotency_key": message.idempotency_key, "tendon": message.payload}
            results["headers"] = {**(results.get("headers") or {}), "Idempotency-Key": message.idempotency_key}
        elif schema in _MAIL_SCHEMES:
            results["headers"] = {**(results.get("headers") or {}),
                                  "X-Tendon-Idempotency-Key": message.idempotency_key}
        asset = apprise.AppriseAsset(storage_mode="memory")
        return apprise.Apprise.instantiate(results, asset=asset, suppress_exceptions=True)


def classify(name: str, lines: list[str]) -> DeliveryError:
    """Turn Apprise's (scrubbed) log lines of a failed send into a DeliveryError."""
    text = "\n".join(lines)
    http = [int(code) for code in _HTTP_STATUS.findall(text)]
    if http:
        code = http[-1]
        transient = code in _TRANSIENT_HTTP or code >= 500
        return DeliveryError(f"{name}: HTTP {code} ({'will retry' if transient else 'rejected'})",
                             transient=transient, status=code)
    smtp = [int(code) for code in _SMTP_REPLY.findall(text)]
    if smtp:
        code = smtp[-1]
        transient = 400 <= code < 500
        return DeliveryError(f"{name}: SMTP {code} ({'will retry' if transient else 'rejected'})",
                             transient=transient, status=code)
    if _CONNECTION.search(text):
        return DeliveryError(f"{name}: cannot connect (will retry)", transient=True)
    detail = next((line for line in lines if line.startswith("WARNING") or line.startswith("ERROR")), "")
    detail = detail.partition(" ")[2][:160]
    return DeliveryError(f"{name}: the channel reported a failure{': ' + detail if detail else ''}",
                         transient=True)


def _notify_type(severity: str | None):
    from apprise import NotifyType

    return {"high": NotifyType.FAILURE, "warning": NotifyType.WARNING,
            "caution": NotifyType.WARNING}.get(severity or "", NotifyType.INFO)


def _text():
    from apprise import NotifyFormat

    return NotifyFormat.TEXT


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(level=1)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(f"{record.levelname} {record.getMessage()}")
        except Exception:  # noqa: BLE001 - a bad log call must not break sending
            self.lines.append(f"{record.levelname} (unformattable log record)")


#: Loggers silenced while sending: Apprise's debug and trace lines hold full URLs, and
#: urllib3 logs every request line (a webhook path is often the secret).
CAPTURED_LOGGERS = ("apprise", "urllib3", "requests")


@contextmanager
def _captured_apprise_log() -> Iterator[list[str]]:
    """Collect everything Apprise (and the HTTP stack under it) logs, at every level,
    without passing it on to any other handler."""
    lines: list[str] = []
    handler = _ListHandler(lines)
    saved = []
    for name in CAPTURED_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate, logger.handlers[:]))
        logger.handlers = [handler]
        logger.setLevel(1)
        logger.propagate = False
    try:
        yield lines
    finally:
        for logger, level, propagate, handlers in saved:
            logger.handlers = handlers
            logger.setLevel(level)
            logger.propagate = propagate
