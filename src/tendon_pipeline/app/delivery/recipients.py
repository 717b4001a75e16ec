"""Who gets messages: the local console/outbox, coaches and runners, each with their channels."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from tendon_pipeline.config.settings import Settings
from tendon_pipeline.connectors.notifiers.config import Coach, NotifySettings, RecipientSettings, Runner
from tendon_pipeline.connectors.notifiers.factory import channel_of
from tendon_pipeline.domain.models import SEVERITY_RANK, Severity

LOCAL = "local"


@dataclass(frozen=True)
class Recipient:
    """A coach, a runner or the local operator, with channels by secret-free id."""

    id: str
    display: str
    athletes: frozenset[str] | None  # None: every athlete
    alerts: bool
    plans: bool
    min_severity: str
    timezone: str | None
    quiet_hours: str | None
    digest: str
    options: RecipientSettings | None
    channels: dict[str, SecretStr | str]

    def severities(self) -> tuple[str, ...]:
        if not self.alerts:
            return ()
        return tuple(s.value for s in Severity if SEVERITY_RANK[s] >= SEVERITY_RANK[self.min_severity])


def _channels(entries: list[SecretStr]) -> dict[str, SecretStr | str]:
    out: dict[str, SecretStr | str] = {}
    for entry in entries:
        out.setdefault(channel_of(entry), entry)
    return out


def recipients(settings: Settings) -> list[Recipient]:
    """Everyone who gets messages: the local console/outbox, then coaches, then runners."""
    notify: NotifySettings = settings.notify
    found: list[Recipient] = []
    local_channels: dict[str, SecretStr | str] = {}
    if notify.console:
        local_channels["console"] = "console"
    if notify.outbox:
        local_channels["outbox"] = "outbox"
    if local_channels:
        found.append(Recipient(
            id=LOCAL, display="local", athletes=None, alerts=True, plans=True,
            min_severity=notify.local_min_severity, timezone=None, quiet_hours=None, digest="none",
            options=None, channels=local_channels))
    for coach in settings.coaches:
        found.append(_recipient(f"coach:{coach.name}", coach.name, coach, frozenset(coach.athletes),
                                alerts=True, plans=False, default_tz=None))
    for runner in settings.runners:
        athlete = settings.athlete(runner.athlete)
        name = runner.name or (athlete.name if athlete and athlete.name else runner.athlete)
        found.append(_recipient(f"runner:{runner.athlete}", name, runner, frozenset({runner.athlete}),
                                alerts=runner.alerts, plans=runner.plans,
                                default_tz=athlete.timezone if athlete else None))
    return found


def _recipient(rid: str, display: str, options: Coach | Runner, athletes: frozenset[str], *, alerts: bool,
               plans: bool, default_tz: str | None) -> Recipient:
    return Recipient(
        id=rid, display=display, athletes=athletes, alerts=alerts, plans=plans,
        min_severity=options.min_severity, timezone=options.timezone or default_tz,
        quiet_hours=options.quiet_hours, digest=options.digest, options=options,
        channels=_channels(options.notify))
