"""`yingji backup` and `yingji restore`: the database, the uploaded files and the
install's own configuration files in one tar with a manifest (core/backupmanifest.py;
docs/operations.md).

PostgreSQL goes through pg_dump -Fc and pg_restore (the client binaries of the
server's major version or newer must be on PATH). The row counts in the manifest
and the dump come from one snapshot: a REPEATABLE READ transaction exports it and
pg_dump runs with --snapshot. SQLite goes through sqlite3's online backup API (a
consistent copy while the platform runs), counted on the copy.

Not in a backup: the job queue (Redis or var/huey.sqlite3: queued messages are
rows of the delivery ledger, sent again by the periodic flush), the static files
(collected again from the package), temporary imports.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import settings
from django.db import connection, transaction

from yingji.core import backupmanifest as bm

# The install's own files under VAR_DIR that a new machine needs to be this install.
CONFIG_FILES = ("secret-key", "demo-password")
CONFIG_GLOBS = ("*.env",)


class BackupError(Exception):
    """A backup or restore that cannot go on; the text says why, in Chinese."""


@dataclass
class Result:
    path: Path
    manifest: dict[str, Any]
    pruned: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- databases


def _target(url: str | None) -> dict[str, Any]:
    """A database's settings: the platform's own, or the one `url` names."""
    if not url:
        return dict(connection.settings_dict)
    return dj_database_url.parse(url)


def engine_of(db: dict[str, Any]) -> str:
    engine = db["ENGINE"]
    if "postgresql" in engine:
        return "postgresql"
    if "sqlite3" in engine:
        return "sqlite"
    raise BackupError(f"不支持的数据库类型 {engine}(仅支持 PostgreSQL 与 SQLite)")


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if db.get(key):
            env[var] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    env["PGDATABASE"] = str(db["NAME"])
    return env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    tool = shutil.which(args[0])
    if tool is None:
        raise BackupError(
            f"找不到 {args[0]}(请安装 PostgreSQL 客户端,如 apt install postgresql-client)"
        )
    proc = subprocess.run([tool, *args[1:]], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(f"{what}失败(退出码 {proc.returncode}):{proc.stderr.strip()[:800]}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_names(cur, engine: str) -> list[str]:
    if engine == "postgresql":
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY 1"
        )
    else:
        cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        )
    return [r[0] for r in cur.fetchall()]


def count_rows(cur, engine: str) -> dict[str, int]:
    """Every table's row count (PostgreSQL: a partitioned table and its partitions
    each, the same on both sides of a restore)."""
    counts = {}
    for table in table_names(cur, engine):
        cur.execute(f"SELECT count(*) FROM {_quote(table)}")
        counts[table] = int(cur.fetchone()[0])
    return counts


def _raw_connection(db: dict[str, Any], engine: str):
    if engine == "sqlite":
        return sqlite3.connect(str(db["NAME"]))
    import psycopg

    return psycopg.connect(
        dbname=db["NAME"],
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        autocommit=True,
    )


def counts_of(db: dict[str, Any]) -> dict[str, int]:
    engine = engine_of(db)
    if engine == "sqlite" and not Path(str(db["NAME"])).exists():
        return {}
    conn = _raw_connection(db, engine)
    try:
        return count_rows(conn.cursor(), engine)
    finally:
        conn.close()


def _dump_database(out: Path) -> tuple[str, dict[str, int]]:
    db = dict(connection.settings_dict)
    engine = engine_of(db)
    out.parent.mkdir(parents=True, exist_ok=True)
    if engine == "postgresql":
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            counts = count_rows(cur, engine)
            _run(
                ["pg_dump", "-Fc", f"--snapshot={snapshot}", "-f", str(out)],
                _pg_env(db),
                "pg_dump 导出",
            )
        return engine, counts
    src = sqlite3.connect(str(db["NAME"]))
    dst = sqlite3.connect(str(out))
    try:
        src.backup(dst)
        counts = count_rows(dst.cursor(), engine)
    finally:
        dst.close()
        src.close()
    return engine, counts


# ---------------------------------------------------------------- files


def config_files(var_dir: Path) -> list[Path]:
    found = [var_dir / n for n in CONFIG_FILES if (var_dir / n).is_file()]
    for pattern in CONFIG_GLOBS:
        found += sorted(p for p in var_dir.glob(pattern) if p.is_file())
    return found


def media_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


class _Hashing:
    """A file object that hashes what tarfile reads from it."""

    def __init__(self, f):
        self.f, self.h = f, hashlib.sha256()

    def read(self, n=-1):
        block = self.f.read(n)
        self.h.update(block)
        return block


def _add(tar: tarfile.TarFile, path: Path, arcname: str) -> tuple[str, int]:
    with open(path, "rb") as f:
        info = tar.gettarinfo(fileobj=f, arcname=arcname)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        hashing = _Hashing(f)
        tar.addfile(info, hashing)
        return hashing.h.hexdigest(), info.size


# ---------------------------------------------------------------- backup


def backup_dir(given: str | Path | None = None) -> Path:
    return Path(given or getattr(settings, "YINGJI_BACKUP_DIR", Path(settings.VAR_DIR) / "backups"))


def create(dest: str | Path | None = None, *, keep: int | None = None, say=print) -> Result:
    """Write one backup into `dest`, then (with `keep`) delete the oldest beyond it."""
    from yingji import __version__

    if keep is not None and keep < 1:
        raise BackupError(f"--keep 须为正整数,收到 {keep}")
    dest = backup_dir(dest)
    dest.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    name = bm.name_for(now)
    final = dest / name
    if final.exists():
        raise BackupError(f"{final} 已存在(同一秒内的第二次备份),请稍后再试")
    part = dest / (name + ".part")
    files: dict[str, tuple[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="yingji-backup-", dir=dest) as staging:
        staging = Path(staging)
        try:
            # The archive holds personal data and the secret key: owner only.
            part.touch(mode=0o600)
            os.chmod(part, 0o600)
            with tarfile.open(part, "w") as tar:
                engine = engine_of(dict(connection.settings_dict))
                member = bm.DB_MEMBER[engine]
                engine, counts = _dump_database(staging / member)
                files[member] = _add(tar, staging / member, member)
                (staging / member).unlink()
                media_root = Path(settings.MEDIA_ROOT)
                for path in media_files(media_root):
                    arc = "media/" + path.relative_to(media_root).as_posix()
                    try:
                        files[arc] = _add(tar, path, arc)
                    except FileNotFoundError:  # deleted since listed: not part of it
                        continue
                for path in config_files(Path(settings.VAR_DIR)):
                    arc = "config/" + path.name
                    files[arc] = _add(tar, path, arc)
                manifest = bm.build(
                    engine=engine,
                    created_at=now,
                    tables=counts,
                    files=files,
                    app_version=__version__,
                )
                data = bm.dumps(manifest)
                (staging / bm.MANIFEST).write_bytes(data)
                _add(tar, staging / bm.MANIFEST, bm.MANIFEST)
            with open(part, "rb") as f:  # on disk before it carries its final name
                os.fsync(f.fileno())
            os.replace(part, final)
        finally:
            part.unlink(missing_ok=True)
    result = Result(final, manifest)
    say(
        f"备份完成:{final}({final.stat().st_size / 1e6:.1f} MB,{engine},"
        f"{len(counts)} 张表 {sum(counts.values())} 行,{len(files) - 1} 个文件)"
    )
    if keep is not None:
        for old in bm.to_prune(os.listdir(dest), keep):
            (dest / old).unlink()
            result.pruned.append(old)
        if result.pruned:
            say(
                f"已删除 {len(result.pruned)} 个旧备份(保留最近 {keep} 个):{'、'.join(result.pruned)}"
            )
    _audit("backup", final, manifest)
    return result


def _audit(action: str, archive: Path, manifest: dict[str, Any], **more: Any) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from yingji.core import audit
    from yingji.core.models import AuditEntry

    user, label = audit.current_actor()
    if user is None and label == "系统":
        try:
            label = f"命令行({getpass.getuser()})"
        except Exception:
            label = "命令行"
    audit.write(
        [
            AuditEntry(
                content_type=ContentType.objects.get_for_model(AuditEntry),
                object_pk="",
                object_repr=archive.name[:200],
                action=action,
                actor=user if user is not None and getattr(user, "pk", None) else None,
                actor_label=label[:64],
                at=timezone.now(),
                before=None,
                after={
                    "archive": str(archive),
                    "engine": manifest["engine"],
                    "created_at": manifest["created_at"],
                    "tables": len(manifest["tables"]),
                    "rows": sum(manifest["tables"].values()),
                    "files": len(manifest["files"]),
                    **more,
                },
                changed_fields=[],
            )
        ]
    )


# ---------------------------------------------------------------- restore


def verify(archive: Path) -> dict[str, Any]:
    """Read the whole archive, check every member against the manifest; the
    manifest, or BackupError listing every problem. Writes nothing."""
    if not archive.is_file():
        raise BackupError(f"找不到备份文件 {archive}")
    found: dict[str, tuple[str, int]] = {}
    manifest_data = None
    problems = []
    try:
        with tarfile.open(archive, "r:*") as tar:
            for info in tar:
                if not bm.safe_member(info.name) or not info.isfile():
                    problems.append(f"不安全或不允许的成员 {info.name}")
                    continue
                f = tar.extractfile(info)
                if info.name == bm.MANIFEST:
                    manifest_data = f.read()
                else:
                    found[info.name] = bm.sha256_stream(f)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{archive}:不是完整的备份文件({exc})") from None
    if manifest_data is None:
        raise BackupError(f"{archive}:缺少 {bm.MANIFEST}")
    try:
        manifest = bm.loads(manifest_data, f"{archive.name}/{bm.MANIFEST}")
    except bm.ManifestError as exc:
        raise BackupError(str(exc)) from None
    problems += bm.file_problems(manifest, found)
    if problems:
        raise BackupError(f"{archive.name} 校验未通过,未做任何改动:" + ";".join(problems))
    return manifest


def _pg_restore(db: dict[str, Any], stream, *, clean: bool) -> None:
    tool = shutil.which("pg_restore")
    if tool is None:
        raise BackupError(
            "找不到 pg_restore(请安装 PostgreSQL 客户端,如 apt install postgresql-client)"
        )
    args = [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    args += ["--dbname", str(db["NAME"])] + (["--clean", "--if-exists"] if clean else [])
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=err, env=_pg_env(db))
        try:
            shutil.copyfileobj(stream, proc.stdin, 1 << 20)
        except BrokenPipeError:
            pass  # pg_restore stopped: its exit code and message say why
        finally:
            proc.stdin.close()
        code = proc.wait()
        if code != 0:
            err.seek(0)
            text = err.read().decode(errors="replace").strip()[:800]
            raise BackupError(f"pg_restore 恢复失败(退出码 {code}):{text}")


def _sqlite_restore(target: Path, stream) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restoring")
    try:
        with open(staged, "wb") as f:
            shutil.copyfileobj(stream, f, 1 << 20)
        src, dst = sqlite3.connect(str(staged)), sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    finally:
        staged.unlink(missing_ok=True)


def _nonempty_media(root: Path) -> bool:
    return root.is_dir() and any(p.is_file() for p in root.rglob("*"))


def restore(
    archive: str | Path,
    *,
    force: bool = False,
    target_url: str | None = None,
    files: bool = True,
    say: Callable[[str], Any] = print,
    detail: bool = False,
) -> Result:
    """Restore `archive` into the platform's database (or the one `target_url`
    names), MEDIA_ROOT and VAR_DIR. Refuses a database with tables, or a media
    directory with files, unless `force`."""
    archive = Path(archive)
    manifest = verify(archive)
    say(
        f"校验通过:{archive.name}(创建于 {manifest['created_at']},{manifest['engine']},"
        f"{len(manifest['files'])} 个文件)"
    )
    db = _target(target_url)
    engine = engine_of(db)
    if engine != manifest["engine"]:
        raise BackupError(
            f"备份来自 {manifest['engine']},目标数据库是 {engine}:不能跨数据库类型恢复"
        )
    existing = counts_of(db)
    if existing and not force:
        sample = "、".join(list(existing)[:3])
        raise BackupError(
            f"目标数据库 {db['NAME']} 不是空的(已有 {len(existing)} 张表,如 {sample});"
            "确认覆盖请加 --force"
        )
    media_root = Path(settings.MEDIA_ROOT)
    if files and _nonempty_media(media_root) and not force:
        raise BackupError(f"上传文件目录 {media_root} 不是空的;确认覆盖请加 --force")
    if not target_url:
        connection.close()  # the platform's own database is replaced under it
    # Streamed from the archive (verified above): no second copy on disk, except
    # SQLite's, which the backup API needs as a file (next to the target).
    restored_files = 0
    with tarfile.open(archive, "r:*") as tar:
        stream = tar.extractfile(bm.DB_MEMBER[engine])
        if engine == "postgresql":
            _pg_restore(db, stream, clean=bool(existing))
        else:
            _sqlite_restore(Path(str(db["NAME"])), stream)
        if files:
            for info in tar:
                if info.name.startswith("media/"):
                    out = media_root / info.name.removeprefix("media/")
                elif info.name.startswith("config/"):
                    out = Path(settings.VAR_DIR) / info.name.removeprefix("config/")
                else:
                    continue
                data = tar.extractfile(info).read() if info.name.startswith("config/") else None
                if data is not None and out.exists() and out.read_bytes() != data:
                    shutil.copy2(out, out.with_name(out.name + ".before-restore"))
                    say(f"已保留原配置文件为 {out.name}.before-restore")
                out.parent.mkdir(parents=True, exist_ok=True)
                with open(out, "wb") as f:
                    if data is not None:
                        f.write(data)
                    else:
                        shutil.copyfileobj(tar.extractfile(info), f, 1 << 20)
                os.chmod(out, info.mode & 0o777)
                restored_files += 1
    counts = counts_of(db)
    problems = bm.count_problems(manifest["tables"], counts)
    result = Result(archive, manifest, problems=problems, counts=counts)
    say(
        f"恢复完成:{db['NAME']},{len(counts)} 张表 {sum(counts.values())} 行"
        f"(备份中 {len(manifest['tables'])} 张表 {sum(manifest['tables'].values())} 行),"
        f"恢复文件 {restored_files} 个"
    )
    if detail:
        for table in sorted(counts):
            say(f"  {table}: {counts[table]}")
    _audit(
        "restore",
        archive,
        manifest,
        target=str(db["NAME"]),
        forced=bool(existing),
        count_problems=problems[:20],
    )
    return result
