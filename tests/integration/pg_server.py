"""A throwaway PostgreSQL server for the integration tests: initdb in a
temporary directory, a unix socket there and loopback on a free port,
stopped and removed afterwards even when tests fail."""
import atexit
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from support import BUILD_CONNECTORS

PASSWORD_USER = "backfill_pw"
PASSWORD = "s3cret-pw"


def _bindir():
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if os.path.exists(os.path.join(out, "initdb")):
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found; run scripts/setup")
    return os.path.dirname(found[-1])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_text(value):
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


_shared = None


def require_postgres_connector():
    """Skips the calling test in a build without the PostgreSQL connector
    (-DBACKFILL_POSTGRES=OFF); a build with it runs every test."""
    if "postgres" not in BUILD_CONNECTORS:
        raise unittest.SkipTest("this build has no PostgreSQL connector")


def server():
    """The server of this test process, started on first use; it stops and
    its directory goes when the process exits."""
    global _shared
    require_postgres_connector()
    if _shared is None:
        _shared = PgServer()
        atexit.register(_shared.close)
    return _shared


class PgServer:
    """One server. `url(db)` is a URL the binary can use; `psql(sql)` runs SQL.
    With `primary`, a hot standby streaming from it (a base backup of it)."""

    def __init__(self, primary=None):
        require_postgres_connector()
        self.bindir = _bindir()
        self.dir = tempfile.mkdtemp(prefix="backfill-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = _free_port()
        # initdb refuses to run as root: run the server as the postgres user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self.superuser = "postgres" if self.as_user else os.environ.get("USER", "postgres")
        self.running = False
        atexit.register(self.stop)
        if primary is not None:
            # The backup carries the primary's settings; the lines added below override them.
            self._server(["pg_basebackup", "-h", primary.dir, "-p", str(primary.port), "-U",
                          primary.superuser, "-D", self.data, "-R", "--no-sync", "--checkpoint=fast"])
        else:
            self._server(["initdb", "-D", self.data, "-U", self.superuser, "--auth-local=trust",
                          "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.dir}'\nfsync = off\n"
                       "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 40\n"
                       # A standby reports its replay position every second, not every ten.
                       "wal_receiver_status_interval = 1\n")
        self.start()
        if primary is None:
            self.psql(f"CREATE ROLE {PASSWORD_USER} LOGIN SUPERUSER PASSWORD '{PASSWORD}'")

    def _server(self, args, check=True):
        cmd = self.as_user + [os.path.join(self.bindir, args[0]), *args[1:]]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def start(self):
        self._server(["pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "start"])
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self._server(["pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"], check=False)
            self.running = False

    def restart(self):
        self.stop("immediate")
        self.start()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def create_database(self, name):
        self.psql(f'DROP DATABASE IF EXISTS "{name}"')
        self.psql(f'CREATE DATABASE "{name}"')

    def url(self, db, user=None):
        """A URL over the unix socket (trusted, no password)."""
        return f"postgresql://{user or self.superuser}@/{db}?host={self.dir}&port={self.port}"

    def tcp_url(self, db, user, password):
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{db}"

    def psql(self, sql, db="postgres"):
        """Runs `sql`; returns its rows as lists of strings (NULL: None)."""
        out = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p", str(self.port), "-U",
             self.superuser, "-d", db, "-A", "-t", "-F", "\x1f", "-P", "null=\x1e", "-c", sql],
            capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr}\n{sql[:500]}")
        rows = []
        for line in out.stdout.split("\n"):
            if not line:
                continue
            rows.append([None if cell == "\x1e" else cell for cell in line.split("\x1f")])
        return rows

    def psql_file(self, path, db):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p", str(self.port),
                        "-U", self.superuser, "-d", db, "-f", path],
                       check=True, capture_output=True, text=True, timeout=600)

    def copy(self, db, table, rows):
        """Loads `rows` (lists of values, None for NULL) into `table` with COPY."""
        lines = "".join("\t".join(copy_text(v) for v in row) + "\n" for row in rows)
        subprocess.run(["psql", "-X", "-q", "-h", self.dir, "-p", str(self.port), "-U", self.superuser,
                        "-d", db, "-c", f"COPY {table} FROM STDIN"], input=lines, text=True, check=True)

    def snapshot(self, db):
        """Every table of `db` outside the system schemas with a digest of its
        rows, in one query: equal snapshots, nothing created or written."""
        return self.psql(
            "SELECT n.nspname, c.relname, (xpath('/row/h/text()', query_to_xml(format("
            "'SELECT md5(coalesce(string_agg(t::text, '','' ORDER BY t::text), '''')) AS h FROM %I.%I t',"
            " n.nspname, c.relname), false, true, '')))[1]::text"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg\\_toast%' ORDER BY 1, 2", db)

    def json_rows(self, sql, db):
        """Rows of `sql` as dicts, through row_to_json."""
        return [json.loads(r[0]) for r in self.psql(f"SELECT row_to_json(q) FROM ({sql}) q", db)]
