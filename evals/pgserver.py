"""A real PostgreSQL server for tests and `newsdesk loadtest --replicas`: initdb + pg_ctl in a temporary directory,
on a free localhost port.

initdb refuses to run as root, so as root (CI) the cluster belongs to the ``postgres`` system user (created by
Debian's postgresql package) and every server command runs through ``runuser -u postgres --``. `make test`
installs the package when the binaries are missing; elsewhere the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

SEARCH = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def binaries() -> Path | None:
    for folder in SEARCH:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def why_unavailable() -> str | None:
    if binaries() is None:
        return "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (run `make test`)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """A cluster in a fresh directory of its own under the system temp dir (removed by ``close``), not under the
    caller's: as root the ``postgres`` user must traverse every folder above it, and a folder like pytest's
    ``/tmp/pytest-of-root`` is set back to 0700 by any other pytest session that starts meanwhile."""

    def __init__(self) -> None:
        bin_dir = binaries()
        assert bin_dir is not None, why_unavailable()
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="newsdesk-pg-"))
        self.data = self.root / "pgdata"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
            self.root.chmod(0o700)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as_user, str(self.bin / tool), *args],
            capture_output=True,
            cwd=self.root,
            timeout=120,
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace").strip()
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}): {output[-2000:]}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
