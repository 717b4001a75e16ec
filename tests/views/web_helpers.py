"""Helpers for the web tests: `tendon serve`'s app on a loopback port, users with passwords."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PASSWORDS = {"kim": "kim-coach-pass", "lee": "lee-coach-pass", "ana": "ana-runner-pass", "ben": "ben-runner-pass"}
ROLES = {"kim": ("coach", "Kim"), "lee": ("coach", "Lee"), "ana": ("runner", "ana"), "ben": ("runner", "ben")}


def web_config(base: str, out: Path) -> Path:
    """The views test config plus [[web.users]] with scrypt hashes (never the passwords)."""
    from tendon_pipeline.web.auth import hash_password

    lines = [base]
    for name, (role, target) in ROLES.items():
        key = "coach" if role == "coach" else "athlete"
        lines.append(f'[[web.users]]\nname = "{name}"\nrole = "{role}"\n{key} = "{target}"\n'
                     f'password_hash = "{hash_password(PASSWORDS[name])}"\n')
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


def web_settings(built, db: Path, tmp_path: Path, extra: str = ""):
    """Settings for a server over the warehouse copy ``db``: the views config, web users, ``extra``."""
    from tendon_pipeline.config.settings import load_settings

    config = web_config(built.config.read_text(encoding="utf-8") + extra, tmp_path / "web-config.toml")
    return load_settings(config, db=db, inbox=tmp_path / "inbox")


@dataclass
class Server:
    url: str
    settings: object
    db: Path


@contextmanager
def serve(settings, signer=None) -> Iterator[Server]:
    """`tendon serve`'s app (upload API + pages) under uvicorn on 127.0.0.1, in a thread."""
    import uvicorn

    from tendon_pipeline.connectors.sources.http_upload import bind
    from tendon_pipeline.web.server import create_web_app

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_web_app(settings, signer=signer), log_level="warning", lifespan="off",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", settings, Path(settings.db))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def sign_in(client, url: str, name: str, password: str | None = None):
    """Sign in with the form (its CSRF token and cookie), as a browser does."""
    page = client.get(f"{url}/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post(f"{url}/login", data={"csrf": csrf, "name": name, "password": password or PASSWORDS[name],
                                             "next": "/"})


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)
