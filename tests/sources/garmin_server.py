"""A loopback Garmin Connect for the unmodified ``garminconnect`` library.

The library talks HTTPS to fixed hosts (``connectapi.garmin.com``, ``diauth.garmin.com``).
It is pointed here by configuration only, the way ``requests`` is configured anywhere:
``HTTPS_PROXY`` names this server, which answers ``CONNECT`` and terminates TLS with a
certificate for those hosts signed by a test CA that ``REQUESTS_CA_BUNDLE`` trusts
(:meth:`GarminServer.environment`). No library internals are patched.

Served, as the library requests them (garminconnect 0.3.x):

- ``Authorization: Bearer <DI token>`` on every API call; an unknown token 401;
- ``POST diauth.garmin.com/di-oauth2-service/oauth/token`` (refresh_token grant): a new
  token, or 401 when the refresh token was revoked;
- ``GET /userprofile-service/socialProfile`` and ``/userprofile-service/userprofile/user-settings``
  (read by ``Garmin.login``);
- ``GET /activitylist-service/activities/search/activities?startDate=&start=&limit=[&sortOrder=asc]``;
- ``GET /download-service/files/activity/{id}``: a zip holding ``{id}_ACTIVITY.fit``;
- the login the library performs first (its "mobile" strategy, read from its source:
  Garmin documents none of this): ``POST sso.garmin.com/mobile/api/login`` (JSON e-mail and
  password) -> ``SUCCESSFUL`` with a service ticket, ``MFA_REQUIRED`` or
  ``INVALID_USERNAME_PASSWORD``; ``POST .../mobile/api/mfa/verifyCode``; the ticket exchanged
  for tokens at ``diauth.garmin.com/di-oauth2-service/oauth/token``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import socketserver
import ssl
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HOSTS = ["connectapi.garmin.com", "diauth.garmin.com", "connect.garmin.com", "sso.garmin.com"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(client_id: str = "GARMIN_CONNECT_MOBILE_ANDROID_DI", lifetime_s: int = 86_400) -> str:
    """An (unsigned) JWT shaped like Garmin's DI token: the library reads ``exp`` and ``client_id``."""
    payload = {"exp": int(time.time()) + lifetime_s, "client_id": client_id, "jti": _b64(os.urandom(6))}
    return ".".join([_b64(b'{"alg":"RS256","typ":"JWT"}'), _b64(json.dumps(payload).encode()), _b64(b"sig")])


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA (``ca.pem``) and a certificate for :data:`HOSTS` signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tendon test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTS[0])]))
            .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in HOSTS]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return paths


@dataclass
class GarminActivity:
    activity_id: int
    start_gmt: dt.datetime
    fit: bytes
    type_key: str = "running"


@dataclass
class GarminServer:
    folder: Path
    activities: list[GarminActivity] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (host, path, query)
    faults: list[tuple[str, int]] = field(default_factory=list)
    logins: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # e-mail -> (password, MFA code)

    def __post_init__(self) -> None:
        self.ca, leaf, key = make_certificates(self.folder)
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(leaf, key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.proxy_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()
        self._tickets: set[str] = set()
        self._mfa_pending: str | None = None

    def __enter__(self) -> GarminServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def environment(self) -> dict[str, str]:
        """What points ``requests`` (and so garminconnect) here: the proxy and the CA to trust."""
        return {"HTTPS_PROXY": self.proxy_url, "https_proxy": self.proxy_url,
                "REQUESTS_CA_BUNDLE": str(self.ca), "NO_PROXY": "", "no_proxy": ""}

    def token_file(self, path: Path, *, revoked: bool = False) -> Path:
        """``garmin_tokens.json`` as the library dumps it after a login."""
        token, refresh = jwt(), "refresh-" + _b64(os.urandom(9))
        if not revoked:
            self.tokens.add(token)
            self.refresh_tokens.add(refresh)
        path.write_text(json.dumps({"di_token": token, "di_refresh_token": refresh,
                                    "di_client_id": "GARMIN_CONNECT_MOBILE_ANDROID_DI"}))
        return path

    def add(self, n: int, start_gmt: dt.datetime, fit: bytes) -> GarminActivity:
        activity = GarminActivity(20_000_000_000 + n, start_gmt, fit)
        self.activities.append(activity)
        return activity

    def fail(self, fragment: str, status: int, *, times: int = 1) -> None:
        self.faults.extend([(fragment, status)] * times)

    def paths(self, fragment: str = "") -> list[str]:
        return [p for _, p, _ in self.requests if fragment in p]

    def _fault(self, path: str) -> int | None:
        with self._lock:
            for i, (fragment, status) in enumerate(self.faults):
                if fragment in path:
                    del self.faults[i]
                    return status
        return None

    # -- HTTP ---------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_CONNECT(self) -> None:
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                tls = server._tls.wrap_socket(self.connection, server_side=True)
                self.connection = tls
                self.rfile = tls.makefile("rb", -1)
                self.wfile = socketserver._SocketWriter(tls)
                self.close_connection = False

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, payload: object) -> None:
                self._send(status, json.dumps(payload).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                host = self.headers.get("Host", "").partition(":")[0]
                path = urlsplit(self.path).path
                server.requests.append((host, path, ""))
                status = server._fault(path)
                if status:
                    return self._json(status, {"message": f"injected {status}"})
                if host == "diauth.garmin.com" and path == "/di-oauth2-service/oauth/token":
                    return self._token(parse_qs(body))
                if host == "sso.garmin.com" and path == "/mobile/api/login":
                    return self._login(json.loads(body or "{}"))
                if host == "sso.garmin.com" and path.endswith("/api/mfa/verifyCode"):
                    return self._mfa(json.loads(body or "{}"))
                self._json(404, {"message": "not found"})

            def _token(self, form: dict[str, list[str]]) -> None:
                if form.get("grant_type") == ["refresh_token"]:
                    if form.get("refresh_token", [""])[0] not in server.refresh_tokens:
                        return self._json(401, {"error": "invalid_grant"})
                elif form.get("service_ticket", [""])[0] not in server._tickets:
                    return self._json(400, {"error": "invalid_ticket"})
                token, refresh = jwt(), form.get("refresh_token", ["refresh-" + _b64(os.urandom(9))])[0]
                server.tokens.add(token)
                server.refresh_tokens.add(refresh)
                self._json(200, {"access_token": token, "refresh_token": refresh, "expires_in": 86400})

            def _ticket(self) -> None:
                ticket = "ST-" + _b64(os.urandom(9))
                server._tickets.add(ticket)
                self._json(200, {"responseStatus": {"type": "SUCCESSFUL"}, "serviceTicketId": ticket})

            def _login(self, form: dict) -> None:
                expected = server.logins.get(form.get("username", ""))
                if expected is None or expected[0] != form.get("password"):
                    return self._json(200, {"responseStatus": {"type": "INVALID_USERNAME_PASSWORD"}})
                if expected[1] is not None:
                    server._mfa_pending = expected[1]
                    return self._json(200, {"responseStatus": {"type": "MFA_REQUIRED"},
                                            "customerMfaInfo": {"mfaLastMethodUsed": "email"}})
                self._ticket()

            def _mfa(self, form: dict) -> None:
                if server._mfa_pending is None or form.get("mfaVerificationCode") != server._mfa_pending:
                    return self._json(200, {"responseStatus": {"type": "INVALID_MFA_CODE"}})
                self._ticket()

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                host = self.headers.get("Host", "").partition(":")[0]
                server.requests.append((host, parts.path, parts.query))
                status = server._fault(parts.path)
                if status:
                    return self._json(status, {"message": f"injected {status}"})
                bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if host != "connectapi.garmin.com" or bearer not in server.tokens:
                    return self._json(401, {"message": "Unauthorized"})
                self._route(parts.path, parse_qs(parts.query))

            def _route(self, path: str, query: dict[str, list[str]]) -> None:
                if path == "/userprofile-service/socialProfile":
                    return self._json(200, {"displayName": "ana-garmin", "fullName": "Ana Test"})
                if path == "/userprofile-service/userprofile/user-settings":
                    return self._json(200, {"userData": {"measurementSystem": "metric"}})
                if path == "/activitylist-service/activities/search/activities":
                    return self._list(query)
                prefix = "/download-service/files/activity/"
                if path.startswith(prefix):
                    return self._download(path[len(prefix):])
                self._json(404, {"message": "not found"})

            def _list(self, query: dict[str, list[str]]) -> None:
                since = dt.datetime.fromisoformat(query["startDate"][0])
                found = sorted((a for a in server.activities if a.start_gmt >= since), key=lambda a: a.start_gmt,
                               reverse=query.get("sortOrder") != ["asc"])
                start, limit = int(query.get("start", ["0"])[0]), int(query.get("limit", ["20"])[0])
                self._json(200, [{"activityId": a.activity_id, "activityName": "Run",
                                  "startTimeGMT": a.start_gmt.strftime("%Y-%m-%d %H:%M:%S"),
                                  "activityType": {"typeKey": a.type_key}} for a in found[start:start + limit]])

            def _download(self, activity_id: str) -> None:
                activity = next((a for a in server.activities if str(a.activity_id) == activity_id), None)
                if activity is None:
                    return self._json(404, {"message": "not found"})
                packed = io.BytesIO()
                with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
                    archive.writestr(f"{activity_id}_ACTIVITY.fit", activity.fit)
                self._send(200, packed.getvalue(), "application/x-zip-compressed")

        return Handler
