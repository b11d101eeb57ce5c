"""Open the warehouse, wait politely for DuckDB's single-writer lock, and keep the schema current.

A DuckDB file admits one read-write process at a time; a second process (even read-only) fails
with ``IO Error: Could not set lock on file``. :func:`connect` retries that error with short sleeps
for ``wait`` seconds, then raises :class:`WarehouseBusy`.

Schema versions: ``migrations/NNN_*.sql`` step a file from version NNN-1 to NNN, each in its own
transaction, recorded in ``schema_version``. A new warehouse is created from ``schema.sql`` (the
current schema in one file) and stamped with the latest version. Views (``views/*.sql``) are not
versioned: they are recreated on every read-write open.
"""

from __future__ import annotations

import errno
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb

try:
    import fcntl
except ImportError:  # not POSIX: no way to see another process's lock before opening
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
MIGRATIONS = HERE / "migrations"
VIEWS = HERE / "views"
_MIGRATION_NAME = re.compile(r"^(\d{3})_(\w+)\.sql$")
_LOCK_RETRY_SLEEP = 0.1  # seconds; the lock is usually held for one short batch
_HEADER_BYTES = 3 * 4096  # DuckDB's main header and two database headers
_TRAILING_COMMENTS = re.compile(r"(?:\n[ \t]*--[^\n]*)+$")
# A file that looks like an interrupted creation is looked at again after this long: a process
# creating it right now may not hold DuckDB's lock yet (the file exists a moment before the lock),
# and moving it away then gave two runs started together two databases sharing one WAL name.
_CREATION_SETTLE = 0.5  # seconds


class WarehouseError(Exception):
    """The warehouse file cannot be used as asked."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse file's lock for longer than we wait."""


class WarehouseMissing(WarehouseError):
    """A read-only open of a warehouse file that does not exist."""


class WarehouseDamaged(WarehouseError):
    """The warehouse file is damaged (truncated, or blocks that fail their checksum)."""

    def __init__(self, path: str | Path, detail: str) -> None:
        self.path, self.detail = str(path), detail
        super().__init__(
            f"warehouse {path} is damaged: {detail}; restore a backup, or run `enrich rebuild "
            f"--from-raw {path} --db NEW.duckdb` to rebuild a new file from what is readable"
        )


# How DuckDB words a damaged file: a block that fails its checksum, a read past the end of a
# truncated file, a header that is not DuckDB's, a write-ahead log that cannot be replayed.
_DAMAGE = re.compile(
    r"Corrupt database file|does not match stored checksum|Could not read enough bytes|"
    r"not a valid DuckDB database file|Failure while replaying WAL|is truncated",
    re.IGNORECASE,
)


def damage_detail(exc: BaseException) -> str | None:
    """The first line of a DuckDB error that says the file is damaged (or of one it was
    raised from), else None."""
    for err in _raised_from(exc):
        if isinstance(err, duckdb.Error) and _DAMAGE.search(str(err)):
            return _first_line(err)
    return None


def _raised_from(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every error it was raised from or while handling, each once."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        todo += [err.__cause__, None if err.__suppress_context__ else err.__context__]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# How a full disk reads in DuckDB's errors (``IO Error: Could not write file "/x/w.duckdb.wal":
# No space left on device``) and in the OS's (ENOSPC, EDQUOT).
_NO_SPACE = re.compile(r"No space left on device|Disk quota exceeded", re.IGNORECASE)
_FILE_NAMED = re.compile(r'file "([^"]+)"')


def disk_full_path(exc: BaseException, default: str | Path = "") -> str | None:
    """Where the disk ran full, when ``exc`` (or an error it was raised from) says so: the file
    the error names, else ``default``; None when this is not a full disk."""
    for err in _raised_from(exc):
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            return str(err.filename or default)
        if isinstance(err, duckdb.Error) and _NO_SPACE.search(str(err)):
            named = _FILE_NAMED.search(str(err))
            return named.group(1) if named else str(default)
    return None


@cache
def statements(filename: str) -> dict[str, str]:
    """The named statements of ``warehouse/<filename>`` (blocks headed ``-- name: <name>``)."""
    text = (HERE / filename).read_text(encoding="utf-8")
    blocks = re.split(r"^-- name: *(\w+) *$", text, flags=re.MULTILINE)
    # blocks = [preamble, name1, body1, name2, body2, ...]; a body ends before the comment lines
    # that introduce the next statement
    return {
        name: _TRAILING_COMMENTS.sub("", body.strip()).rstrip()
        for name, body in zip(blocks[1::2], blocks[2::2], strict=True)
    }


def sql(filename: str, name: str) -> str:
    """One named statement from ``warehouse/<filename>``."""
    return statements(filename)[name]


def migrations() -> list[tuple[int, Path]]:
    """(version, file) for every migration, in order."""
    found = []
    for path in MIGRATIONS.glob("*.sql"):
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest_version() -> int:
    """The schema version this code writes."""
    return migrations()[-1][0]


def connect(
    path: str | Path,
    *,
    read_only: bool = False,
    wait: float = 30.0,
    check: bool = True,
    quiet: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse at ``path`` (``":memory:"`` for a throwaway one).

    Read-write opens create the parent directory and migrate the schema to the current version.
    Raises WarehouseBusy when another process keeps the file locked for ``wait`` seconds,
    WarehouseMissing for a read-only open of a file that does not exist, and WarehouseDamaged
    for a file that fails ``check_integrity`` (``check=False``, read-only: salvage reads one
    anyway). ``quiet``: no warning that a read-only open found an older schema.
    """
    if str(path) == ":memory:":
        con = duckdb.connect(":memory:")
        migrate(con)
        return con
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseMissing(f"warehouse {path} does not exist (run `enrich run` first)")
    if _interrupted_creation(path):
        if read_only:
            raise WarehouseMissing(
                f"warehouse {path} was never completely created (its first run was "
                "interrupted); run `enrich run` to create it"
            )
        _set_aside(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open_waiting(path, read_only=read_only, wait=wait)
    try:
        if check or not read_only:
            check_integrity(con, path)
        if not read_only:
            migrate(con)
        elif check and not quiet:
            _warn_if_outdated(con, path)
    except BaseException:
        con.close()
        raise
    return con


def probe(path: str | Path) -> None:
    """Open an existing warehouse read-only (waiting for its lock as ``connect`` does), run
    ``check_integrity``, close: what a run does first, before Prefect starts and anything is
    fetched. Nothing to do for a new file."""
    path = Path(path)
    if str(path) == ":memory:" or not path.exists() or _looks_interrupted(path):
        return
    connect(path, read_only=True, quiet=True).close()


def check_integrity(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """A cheap probe, before any work: every block a table's data lives in must be inside the
    file. Reads only metadata (pragma storage_info): ~0.1 s for a warehouse of 20 tables.

    A file cut short (a full disk, a copy or a download that stopped) opens fine, and used to
    fail only when a query reached the missing blocks: after a whole run of fetching. Raises
    WarehouseDamaged naming what is missing; a file whose metadata cannot even be read raises it
    too. (Blocks overwritten inside the file are found when read: their checksum fails, and
    that error is reported the same way.)"""
    try:
        block_size = con.execute("select block_size from pragma_database_size()").fetchone()[0]
        last = -1
        for (table,) in con.execute(sql("db.sql", "table_names")).fetchall():
            row = con.execute(sql("db.sql", "last_block"), {"table": table}).fetchone()
            last = max(last, row[0] if row[0] is not None else -1)
    except duckdb.Error as exc:
        detail = damage_detail(exc)
        if detail is None:
            raise
        raise WarehouseDamaged(path, detail) from None
    need = _HEADER_BYTES + (last + 1) * block_size
    size = Path(path).stat().st_size
    if size < need:
        raise WarehouseDamaged(
            path,
            f"the file is {size:,} bytes but its tables' data reaches byte {need:,} (cut short)",
        )


def _interrupted_creation(path: Path) -> bool:
    """Whether ``path`` is what a process killed while DuckDB created the file leaves: an empty
    file, or only part of the three 4 KiB header blocks (magic ``DUCK`` at byte 8). DuckDB
    refuses such a file for ever ("not a valid DuckDB database file"); it holds no data.

    A file that looks so is checked again after _CREATION_SETTLE seconds, so one that another
    process is creating at this moment is left alone."""
    if not _looks_interrupted(path):
        return False
    time.sleep(_CREATION_SETTLE)
    return _looks_interrupted(path)


def _looks_interrupted(path: Path) -> bool:
    try:
        size = path.stat().st_size
        if size >= _HEADER_BYTES:
            return False
        with path.open("rb") as f:
            if size and f.read(12)[8:12] != b"DUCK":
                return False
            # a process creating it right now holds DuckDB's lock on it: leave it alone
            if fcntl is not None:
                try:
                    fcntl.lockf(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
                except OSError:
                    return False
                fcntl.lockf(f.fileno(), fcntl.LOCK_UN)
            return True
    except OSError:
        return False


def _is_duckdb_file(path: Path) -> bool:
    """Whether the file starts like a DuckDB database (magic ``DUCK`` at byte 8): one that does
    and will not open is a damaged warehouse, not some other file."""
    try:
        with path.open("rb") as f:
            return f.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


def _set_aside(path: Path) -> None:
    """Move an interrupted creation (and any WAL beside it) to ``<name>.incomplete`` so a new
    warehouse can be created in its place; nothing is deleted."""
    for part in (path, path.with_name(path.name + ".wal")):
        if part.exists():
            target = part.with_name(part.name + ".incomplete")
            part.replace(target)
    log.warning(
        "warehouse %s was left incomplete by an interrupted first run (set aside as %s); "
        "creating it anew",
        path,
        path.with_name(path.name + ".incomplete"),
    )


def _warn_if_outdated(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    # a read-only connection cannot migrate; say why a newer view or column may be missing
    version = schema_version(con)
    if version < latest_version():
        log.warning(
            "warehouse %s is at schema version %d (current %d); any read-write open "
            "(e.g. enrich run) upgrades it",
            path,
            version,
            latest_version(),
        )


def _open_waiting(path: Path, *, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            detail = damage_detail(exc)
            if detail is not None and _is_duckdb_file(path):
                raise WarehouseDamaged(path, detail) from None
            if not isinstance(exc, duckdb.IOException) or "lock" not in str(exc).lower():
                raise WarehouseError(
                    f"{path} cannot be opened as a warehouse: {_first_line(exc)}"
                ) from None
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"warehouse {path} is busy: another process holds its lock "
                    f"(waited {wait:g} s); try again when it has finished"
                ) from None
            time.sleep(_LOCK_RETRY_SLEEP)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The version recorded in the file (0 for a file enrich never initialised)."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = 'schema_version'"
    ).fetchone()[0]
    return con.execute(sql("db.sql", "current_version")).fetchone()[0] if exists else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the schema to the latest version and recreate the views; returns the version."""
    current = schema_version(con)
    latest = latest_version()
    if current > latest:
        raise WarehouseError(
            f"warehouse schema version {current} is newer than this enrich supports ({latest})"
        )
    if current == 0:
        _create_fresh(con, latest)
    for version, path in migrations():
        if version > current and current > 0:
            _apply(con, path.read_text(encoding="utf-8"), version=version, description=path.stem)
    _create_views(con)
    return latest


def _create_fresh(con: duckdb.DuckDBPyConnection, latest: int) -> None:
    if con.execute(sql("db.sql", "user_tables")).fetchall():
        raise WarehouseError("the file holds tables but no schema_version: not an enrich warehouse")
    _apply(
        con,
        (HERE / "schema.sql").read_text(encoding="utf-8"),
        version=latest,
        description="created from schema.sql",
    )


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``begin`` ... ``commit``; ``rollback`` on any error so the file keeps its previous state.

    The error raised is always the first one. DuckDB may have ended the transaction itself (a
    fatal error such as a full disk): then the rollback fails too ("cannot rollback - no
    transaction is active"), and that second error used to replace the one worth reporting.
    """
    con.begin()
    try:
        yield con
    except BaseException:
        try:
            con.rollback()
        except duckdb.Error as second:
            log.debug("rollback after an error failed too (%s)", second)
        raise
    con.commit()


def _apply(con: duckdb.DuckDBPyConnection, script: str, *, version: int, description: str) -> None:
    """Run one schema script and record its version, all in one transaction."""
    with transaction(con):
        con.execute(sql("db.sql", "create_schema_version"))
        con.execute(script)
        con.execute(
            sql("db.sql", "record_version"), {"version": version, "description": description}
        )
    log.info("warehouse schema now at version %d (%s)", version, description)


def view_files() -> list[Path]:
    """View definitions in creation order: a view after every view its SQL names."""
    files = {p.stem: p for p in sorted(VIEWS.glob("*.sql"))}
    bodies = {name: path.read_text(encoding="utf-8") for name, path in files.items()}
    ordered: list[str] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in trail:
            raise WarehouseError(f"views depend on each other in a cycle: {' -> '.join(trail)}")
        for other in files:
            if other != name and re.search(rf"\b{other}\b", bodies[name]):
                visit(other, (*trail, name))
        ordered.append(name)

    for name in files:
        visit(name, ())
    return [files[name] for name in ordered]


def _create_views(con: duckdb.DuckDBPyConnection) -> None:
    with transaction(con):
        for path in view_files():
            body = path.read_text(encoding="utf-8").strip().rstrip(";")
            con.execute(f"create or replace view {path.stem} as\n{body}")
