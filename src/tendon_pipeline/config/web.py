"""Configuration of the web pages of ``tendon serve`` (a field of ``config/settings.py``).

In the TOML config::

    [web]
    session_minutes = 480          # a sign-in lasts this long

    [[web.users]]                  # a coach: sees the athletes of the [[coaches]] entry named `coach`
    name = "kim"
    role = "coach"
    coach = "Kim"
    password_hash = "scrypt$16384$8$1$..."   # from `tendon hash-password`, never the password

    [[web.users]]                  # a runner: their own page and check-in
    name = "ana"
    role = "runner"
    athlete = "ana"
    password_hash = "scrypt$16384$8$1$..."

The key that signs session cookies comes from the environment (``TENDON_WEB__SESSION_KEY``,
at least 32 characters); without it each server start makes a random one, so a restart
signs everyone out.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

PASSWORD_HASH = re.compile(r"^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+={0,2}\$[A-Za-z0-9_-]+={0,2}$")


class WebUser(BaseModel):
    """One person who signs in: a coach (their [[coaches]] athletes) or a runner (one athlete)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$", description="the sign-in name")
    role: Literal["coach", "runner"]
    coach: str | None = Field(default=None, description="role coach: the name of their [[coaches]] entry")
    athlete: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                                description="role runner: their athlete id")
    password_hash: SecretStr = Field(description="scrypt hash from `tendon hash-password` (never the password)")

    @field_validator("password_hash")
    @classmethod
    def _hashed(cls, value: SecretStr) -> SecretStr:
        if not PASSWORD_HASH.match(value.get_secret_value()):
            # the message must not echo the value: it may be a password pasted in by mistake
            raise ValueError("password_hash is not a scrypt hash: make one with `tendon hash-password`")
        return value

    @model_validator(mode="after")
    def _role_target(self) -> WebUser:
        if self.role == "coach" and not self.coach:
            raise ValueError(f"web user {self.name!r} is a coach: give `coach` (a [[coaches]] name)")
        if self.role == "runner" and not self.athlete:
            raise ValueError(f"web user {self.name!r} is a runner: give `athlete` (their athlete id)")
        return self


class WebSettings(BaseModel):
    """The web pages of ``tendon serve``: who signs in, and for how long."""

    model_config = ConfigDict(extra="forbid")

    users: list[WebUser] = Field(default_factory=list, description="[[web.users]]: coaches and runners who sign in")
    session_minutes: int = Field(default=480, ge=5, le=43_200, description="a sign-in expires after this many minutes")
    session_key: SecretStr | None = Field(
        default=None, min_length=32,
        description="key signing session cookies; set TENDON_WEB__SESSION_KEY in the environment (default: random"
                    " per server start, so a restart signs everyone out)")
    cookie_secure: bool = Field(default=False, description="mark cookies Secure (set when served over HTTPS)")

    @field_validator("users")
    @classmethod
    def _unique(cls, users: list[WebUser]) -> list[WebUser]:
        seen: set[str] = set()
        for user in users:
            if user.name.lower() in seen:
                raise ValueError(f"two [[web.users]] entries have name {user.name!r}")
            seen.add(user.name.lower())
        return users

    def user(self, name: str) -> WebUser | None:
        return next((u for u in self.users if u.name.lower() == name.strip().lower()), None)
