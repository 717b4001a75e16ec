"""Passwords (scrypt), signed session cookies that expire, and CSRF tokens.

Nothing here logs or returns a secret: a session cookie holds the user's name, role, expiry,
a CSRF token and a fingerprint of the password hash (a changed password ends old sessions),
signed with HMAC-SHA256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32  # RFC 7914 interactive-login parameters


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (URL-safe base64) of ``password``."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


_DUMMY = hash_password("not a real password", salt=b"0" * 16)


def verify_password(password: str, encoded: str | None) -> bool:
    """True when ``password`` matches the hash; an unknown user (None) costs the same time."""
    _, n, r, p, salt, expected = (encoded or _DUMMY).split("$")
    digest = hashlib.scrypt(password.encode("utf-8", "surrogateescape"), salt=_unb64(salt), n=int(n), r=int(r),
                            p=int(p), dklen=len(_unb64(expected)), maxmem=256 * 1024 * 1024)
    return hmac.compare_digest(digest, _unb64(expected)) and encoded is not None


def fingerprint(encoded: str) -> str:
    """A short digest of a password hash: sessions name it, so a new password ends them."""
    return hashlib.sha256(encoded.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Session:
    user: str
    role: str
    expires: int  # epoch seconds
    csrf: str
    password_fingerprint: str
    flash: str | None = None

    def with_flash(self, flash: str | None) -> Session:
        return Session(self.user, self.role, self.expires, self.csrf, self.password_fingerprint, flash)


class SessionSigner:
    """Encodes sessions as ``payload.signature`` and reads them back, refusing a bad
    signature or an expired session (None)."""

    def __init__(self, key: bytes, max_age_s: int) -> None:
        if len(key) < 32:
            raise ValueError("the session key must be at least 32 bytes")
        self._key = key
        self.max_age_s = max_age_s

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def new(self, user: str, role: str, password_hash: str, *, now: float | None = None) -> Session:
        expires = int((now if now is not None else time.time()) + self.max_age_s)
        return Session(user, role, expires, secrets.token_urlsafe(24), fingerprint(password_hash))

    def dumps(self, session: Session) -> str:
        payload = _b64(json.dumps({"u": session.user, "r": session.role, "e": session.expires, "c": session.csrf,
                                   "p": session.password_fingerprint, "f": session.flash},
                                  separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._sign(payload)}"

    def loads(self, token: str | None, *, now: float | None = None) -> Session | None:
        if not token or token.count(".") != 1:
            return None
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(str(data["u"]), str(data["r"]), int(data["e"]), str(data["c"]), str(data["p"]),
                              data.get("f"))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires <= (now if now is not None else time.time()):
            return None
        return session

    def csrf_for_anonymous(self, nonce: str) -> str:
        """The sign-in form's CSRF token: tied to a random cookie (double submit, signed)."""
        return self._sign("csrf:" + nonce)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
