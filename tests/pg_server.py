"""A real, throw-away PostgreSQL server for tests (Debian's ``postgresql`` package).

``PostgresServer`` runs ``initdb`` into a fresh temporary directory and starts the server on
127.0.0.1 on a free TCP port, with its unix socket in that directory too (never
/var/run/postgresql), so any number of servers (one per xdist worker) can run side by side.
Tuned for tests: trust authentication for user ``postgres``, fsync off. ``stop()`` shuts it
down (``pg_ctl stop -m fast``) and deletes the directory.

``initdb`` refuses to run as root: as root, initdb and pg_ctl run as the ``postgres`` OS user
(the Debian package creates it) and the directory is handed to that user.

    with PostgresServer() as pg:
        conninfo = pg.create_database("lake")   # "dbname=lake host=127.0.0.1 port=... user=postgres"
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 30.0  # seconds until the server must accept connections
_PORT_ATTEMPTS = 5
_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_BIND_FAILURE = re.compile(r"could not bind|address already in use|could not create any TCP/IP sockets", re.I)


def find_pg_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl, else the
    directory of ``initdb`` on PATH (when pg_ctl is next to it), else None."""
    candidates = []
    for bindir in Path("/").glob(_BIN_GLOB.lstrip("/")):
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            version = bindir.parent.name
            key = tuple(int(p) for p in version.split(".") if p.isdigit())
            candidates.append((key, bindir))
    if candidates:
        return max(candidates)[1]
    initdb = shutil.which("initdb")
    if initdb:
        bindir = Path(initdb).resolve().parent
        if (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresError(RuntimeError):
    """The test server could not be set up, started or used."""


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, for the lifetime of a test session."""

    user = "postgres"
    host = "127.0.0.1"

    def __init__(self, bin_dir: Path | str | None = None, *, max_connections: int = 100,
                 start_timeout: float = START_TIMEOUT) -> None:
        found = Path(bin_dir) if bin_dir is not None else find_pg_bin()
        if found is None:
            raise PostgresError("PostgreSQL server binaries not found (Debian package postgresql)")
        self.bin_dir = found
        self.max_connections = max(50, max_connections)
        self.start_timeout = start_timeout
        self.base_dir: Path | None = None
        self.port: int | None = None
        self._os_user: pwd.struct_passwd | None = None
        self._db_counter = 0

    # -- paths -------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._base / "data"

    @property
    def socket_dir(self) -> Path:
        return self._base / "run"

    @property
    def log_file(self) -> Path:
        return self._base / "server.log"

    @property
    def _base(self) -> Path:
        if self.base_dir is None:
            raise PostgresError("the server is not started")
        return self.base_dir

    @property
    def running(self) -> bool:
        return self.base_dir is not None and self.port is not None

    # -- conninfo ----------------------------------------------------------------------

    def conninfo_for(self, dbname: str) -> str:
        if not self.running:
            raise PostgresError("the server is not started")
        return f"dbname={dbname} host={self.host} port={self.port} user={self.user}"

    @property
    def conninfo(self) -> str:
        """libpq conninfo of the ``postgres`` maintenance database."""
        return self.conninfo_for("postgres")

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> PostgresServer:
        if self.running:
            return self
        self._os_user = self._server_os_user()
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.base_dir = Path(tempfile.mkdtemp(prefix=f"tendon-pg-{worker}-"))
        atexit.register(self.stop)
        try:
            self.socket_dir.mkdir()
            if self._os_user is not None:
                for path in (self.base_dir, self.socket_dir):
                    os.chown(path, self._os_user.pw_uid, self._os_user.pw_gid)
            self._initdb()
            self._start_on_free_port()
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory. Safe to call twice."""
        base, self.base_dir = self.base_dir, None
        port, self.port = self.port, None
        if base is None:
            return
        atexit.unregister(self.stop)
        data = base / "data"
        if port is not None and (data / "postmaster.pid").exists():
            for mode in ("fast", "immediate"):
                done = self._run([self._tool("pg_ctl"), "stop", "-D", str(data), "-m", mode, "-w", "-t", "30"],
                                 cwd=base, check=False)
                if done.returncode == 0:
                    break
        shutil.rmtree(base, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases ---------------------------------------------------------------------

    def create_database(self, name: str | None = None) -> str:
        """Create a database (a unique name when none is given); return its conninfo."""
        import psycopg
        from psycopg import sql

        if name is None:
            self._db_counter += 1
            name = f"test_{os.getpid()}_{self._db_counter}"
        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.conninfo_for(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    # -- internals ---------------------------------------------------------------------

    def _server_os_user(self) -> pwd.struct_passwd | None:
        """None: run the tools as ourselves; as root: the ``postgres`` OS user."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresError("running as root, and there is no 'postgres' OS user to run initdb as "
                                "(the Debian package postgresql creates it)") from None

    def _tool(self, name: str) -> str:
        return str(self.bin_dir / name)

    def _run(self, argv: list[str], *, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        env = dict(os.environ)
        for key in [k for k in env if k.startswith("PG")]:
            del env[key]  # no PGDATA/PGPORT/PGHOST of the developer's
        if self._os_user is not None:
            kwargs.update(user=self._os_user.pw_uid, group=self._os_user.pw_gid, extra_groups=[])
            env.update(HOME=self._os_user.pw_dir, USER=self._os_user.pw_name, LOGNAME=self._os_user.pw_name)
        done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, **kwargs)
        if check and done.returncode != 0:
            raise PostgresError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                                f"{self._log_tail()}")
        return done

    def _initdb(self) -> None:
        self._run([self._tool("initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", self.user,
                   "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], cwd=self._base)
        settings = {
            "listen_addresses": f"'{self.host}'",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": str(self.max_connections),
            "shared_buffers": "'32MB'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "logging_collector": "off",
        }
        # initdb made the file, owned by the server's user; appending as root keeps the owner.
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# tests/pg_server.py\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _start_on_free_port(self) -> None:
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = _free_port()
            before = self.log_file.stat().st_size if self.log_file.exists() else 0
            done = self._run([self._tool("pg_ctl"), "start", "-D", str(self.data_dir), "-l", str(self.log_file),
                              "-o", f"-p {port}", "-w", "-t", str(int(self.start_timeout))],
                             cwd=self._base, check=False)
            if done.returncode == 0:
                self.port = port
                return
            log = self.log_file.read_text(errors="replace")[before:] if self.log_file.exists() else ""
            if _BIND_FAILURE.search(log) and attempt < _PORT_ATTEMPTS:
                continue  # another process took the port between our probe and the server's bind
            if (self.data_dir / "postmaster.pid").exists():  # started, but not ready in time
                self.port = port
            raise PostgresError(f"PostgreSQL did not start on port {port} (pg_ctl exit {done.returncode}):\n"
                                f"{done.stdout}{done.stderr}{self._log_tail()}")

    def _wait_until_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                with psycopg.connect(self.conninfo, connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PostgresError(f"PostgreSQL on port {self.port} does not accept connections "
                                        f"after {self.start_timeout:.0f} s: {exc}{self._log_tail()}") from exc
                time.sleep(0.1)

    def _log_tail(self, lines: int = 30) -> str:
        if self.base_dir is None or not self.log_file.exists():
            return ""
        tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        return f"\n--- server log ({self.log_file}), last {len(tail)} lines ---\n" + "\n".join(tail)
