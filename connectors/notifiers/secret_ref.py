"""Secret channel URLs: references, resolution, masking and scrubbing.

A channel URL in the config may be the URL itself or a reference to it, so the
secret need not sit in the TOML file:

- ``env:VAR_NAME``: the value of environment variable ``VAR_NAME``;
- ``prefect-secret:block-name``: the value of the Prefect Secret block ``block-name``.

References are resolved only when a message is sent. A secret URL is never
logged, stored or put in an error: channels are shown by :func:`mask` (scheme and
host, or the reference's name) and identified in the warehouse by
:func:`channel_id` (masked form plus a short hash of scheme, host, port and path,
so rotating a password or token in the query keeps the channel's identity).
"""

from __future__ import annotations

import hashlib
import os
import re
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from .base import DeliveryError

ENV_REF = "env:"
PREFECT_REF = "prefect-secret:"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLAIN_HOST = re.compile(r"^(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|([A-Za-z0-9-]+\.)+[A-Za-z0-9-]+)$")


def raw(value: SecretStr | str) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def is_reference(value: SecretStr | str) -> bool:
    text = raw(value).strip()
    return text.startswith(ENV_REF) or text.startswith(PREFECT_REF)


def check_reference(value: SecretStr | str) -> None:
    """Raise ``ValueError`` for a malformed reference (config validation)."""
    text = raw(value).strip()
    if text.startswith(ENV_REF) and not _ENV_NAME.match(text[len(ENV_REF):]):
        raise ValueError(f"{text!r} is not a valid env: reference (env:VARIABLE_NAME)")
    if text.startswith(PREFECT_REF) and not text[len(PREFECT_REF):].strip():
        raise ValueError("prefect-secret: needs a block name (prefect-secret:block-name)")


def resolve(value: SecretStr | str) -> str:
    """The URL itself, following an ``env:`` or ``prefect-secret:`` reference.

    A missing variable or block raises a transient :class:`DeliveryError`: the
    message stays queued and is sent once the secret is there (within the retry
    window). The error names the variable or block, never a value.
    """
    text = raw(value).strip()
    if text.startswith(ENV_REF):
        name = text[len(ENV_REF):]
        found = os.environ.get(name, "").strip()
        if not found:
            raise DeliveryError(f"environment variable {name} is not set", transient=True,
                                hint=f"export {name}=<channel URL> where `tendon notify` runs")
        return found
    if text.startswith(PREFECT_REF):
        return _prefect_secret(text[len(PREFECT_REF):].strip())
    return text


def _prefect_secret(block: str) -> str:
    try:
        from prefect.blocks.system import Secret

        value = Secret.load(block).get()
    except Exception as exc:  # noqa: BLE001 - any failure: block missing, API down
        raise DeliveryError(
            f"Prefect Secret block {block!r} cannot be loaded ({type(exc).__name__})", transient=True,
            hint=f"create it: Secret(value='<channel URL>').save({block!r})",
        ) from None
    if not isinstance(value, str) or not value.strip():
        raise DeliveryError(f"Prefect Secret block {block!r} does not hold a URL string", transient=False)
    return value.strip()


def mask(value: SecretStr | str) -> str:
    """A secret-free display name: the reference, or ``scheme://host`` (host hidden
    when it is not a plain host name, e.g. a token in ``slack://TOKEN/...``)."""
    text = raw(value).strip()
    if is_reference(text):
        return text
    scheme, sep, rest = text.partition("://")
    if not sep or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", scheme):
        return "(unparseable URL)"
    host = _host(rest)
    shown = host if host and _PLAIN_HOST.match(host) else "***"
    return f"{scheme.lower()}://{shown}"


def channel_id(value: SecretStr | str) -> str:
    """Stable, secret-free identity of a channel (stored in ``deliveries.channel``)."""
    text = raw(value).strip()
    if is_reference(text):
        return text
    if "://" not in text:
        return f"{mask(text)}#{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    try:
        parts = urlsplit(text)
        ident = f"{parts.scheme.lower()}://{_host(text.partition('://')[2])}:{_port(parts)}{parts.path}"
    except ValueError:
        ident = text
    return f"{mask(text)}#{hashlib.sha256(ident.encode()).hexdigest()[:8]}"


def fragments(url: str) -> list[str]:
    """Pieces of a resolved URL that must never appear in a log or an error."""
    found = {url}
    rest = url.partition("://")[2]
    netloc, _, tail = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        found.update({userinfo, *userinfo.split(":", 1)})
    host = _host(rest)
    if host and not _PLAIN_HOST.match(host):
        found.add(host)
    path, _, query = tail.partition("?")
    found.update(seg for seg in re.split(r"[/]", path) if seg)
    for pair in query.split("&"):
        found.add(pair.partition("=")[2])
    found.update({unquote(f) for f in list(found)})
    return sorted((f for f in found if len(f) >= 4), key=len, reverse=True)


def scrub(text: str, secret_parts: list[str]) -> str:
    for part in secret_parts:
        if part:
            text = text.replace(part, "***")
    return text


def _host(rest: str) -> str:
    netloc = rest.partition("/")[0].partition("?")[0]
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        return hostport.partition("]")[0] + "]"
    return hostport.partition(":")[0].lower()


def _port(parts) -> str:
    try:
        return str(parts.port or "")
    except ValueError:
        return ""
