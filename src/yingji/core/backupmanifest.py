"""A backup's manifest, names and pruning (pure: no Django; docs/operations.md).

A backup is one tar file, ``yingji-backup-YYYYMMDDTHHMMSSZ.tar``, holding

    database/yingji.dump       PostgreSQL: pg_dump -Fc
    database/yingji.sqlite3    SQLite: a copy through the online backup API
    media/…                    every file under MEDIA_ROOT
    config/…                   the install's own files under VAR_DIR (secret key …)
    manifest.json              what is below, written last

and the manifest (JSON, format version 1)::

    {"format": 1, "created_at": "2026-12-04T02:00:00Z", "engine": "postgresql",
     "app_version": "0.1.0", "tables": {"core_department": 42, …},
     "files": {"database/yingji.dump": {"sha256": "…", "size": 123}, …}}

`restore` checks every member against the manifest (nothing missing, nothing
extra, every checksum) before it touches anything, and after restoring compares
the row counts table by table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO

FORMAT = 1
MANIFEST = "manifest.json"
PREFIX = "yingji-backup-"
SUFFIX = ".tar"
ENGINES = ("postgresql", "sqlite")
DB_MEMBER = {"postgresql": "database/yingji.dump", "sqlite": "database/yingji.sqlite3"}
_NAME = re.compile(rf"^{PREFIX}(\d{{8}}T\d{{6}}Z){re.escape(SUFFIX)}$")
_TOP = ("database/", "media/", "config/")


class ManifestError(ValueError):
    """A manifest (or archive) that cannot be trusted; the text says what and where."""


def name_for(at: dt.datetime) -> str:
    """The archive's file name for a backup taken at `at` (UTC)."""
    at = at.astimezone(dt.UTC) if at.tzinfo else at
    return f"{PREFIX}{at:%Y%m%dT%H%M%SZ}{SUFFIX}"


def parse_name(name: str) -> dt.datetime | None:
    """When the backup named `name` was taken; None for any other file."""
    m = _NAME.match(name)
    if not m:
        return None
    return dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


def to_prune(names: Iterable[str], keep: int) -> list[str]:
    """Of the file names in a backup directory, the backups beyond the newest
    `keep`, oldest first. Other files are never named."""
    if keep < 1:
        raise ManifestError(f"--keep 须为正整数,收到 {keep}")
    dated = sorted((t, n) for n in names if (t := parse_name(n)) is not None)
    return [n for _, n in dated[:-keep]] if len(dated) > keep else []


def sha256_stream(stream: BinaryIO, chunk: int = 1 << 20) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    while block := stream.read(chunk):
        h.update(block)
        size += len(block)
    return h.hexdigest(), size


def safe_member(name: str) -> bool:
    """A member name that stays inside the archive's own directories."""
    if not name or name.startswith("/") or "\\" in name:
        return False
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return False
    return name == MANIFEST or name.startswith(_TOP)


def build(
    *,
    engine: str,
    created_at: dt.datetime,
    tables: Mapping[str, int],
    files: Mapping[str, tuple[str, int]],
    app_version: str = "",
) -> dict[str, Any]:
    if engine not in ENGINES:
        raise ManifestError(f"未知的数据库类型「{engine}」(应为 {'、'.join(ENGINES)})")
    at = created_at.astimezone(dt.UTC) if created_at.tzinfo else created_at
    return {
        "format": FORMAT,
        "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "engine": engine,
        "app_version": app_version,
        "tables": {t: int(tables[t]) for t in sorted(tables)},
        "files": {n: {"sha256": files[n][0], "size": int(files[n][1])} for n in sorted(files)},
    }


def dumps(manifest: Mapping[str, Any]) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()


def loads(data: bytes, where: str = MANIFEST) -> dict[str, Any]:
    """Parse and check a manifest; ManifestError naming the first problem."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{where}:不是有效的 JSON({exc})") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{where}:应为 JSON 对象")
    version = manifest.get("format")
    if version != FORMAT:
        raise ManifestError(f"{where}:格式版本「{version}」不受支持(本程序支持 {FORMAT})")
    for key, kind in (("created_at", str), ("engine", str), ("tables", dict), ("files", dict)):
        if not isinstance(manifest.get(key), kind):
            raise ManifestError(f"{where}:缺少字段「{key}」或类型不对")
    if manifest["engine"] not in ENGINES:
        raise ManifestError(f"{where}:未知的数据库类型「{manifest['engine']}」")
    for table, n in manifest["tables"].items():
        if not isinstance(n, int) or n < 0:
            raise ManifestError(f"{where}:表「{table}」的行数「{n}」无效")
    for name, entry in manifest["files"].items():
        if not safe_member(name) or name == MANIFEST:
            raise ManifestError(f"{where}:文件名「{name}」不安全或不允许")
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
            raise ManifestError(f"{where}:文件「{name}」的校验和无效")
    if DB_MEMBER[manifest["engine"]] not in manifest["files"]:
        raise ManifestError(f"{where}:缺少数据库文件 {DB_MEMBER[manifest['engine']]}")
    return manifest


def file_problems(manifest: Mapping[str, Any], found: Mapping[str, tuple[str, int]]) -> list[str]:
    """What differs between the manifest's files and the archive's members
    (name → (sha256, size)): missing, extra, changed. Empty when all match."""
    listed = manifest["files"]
    problems = []
    for name in sorted(set(listed) - set(found)):
        problems.append(f"缺少文件 {name}")
    for name in sorted(set(found) - set(listed)):
        problems.append(f"清单中没有的文件 {name}")
    for name in sorted(set(listed) & set(found)):
        digest, size = found[name]
        if digest != listed[name]["sha256"] or size != listed[name]["size"]:
            problems.append(f"文件 {name} 校验和不符(已损坏或被修改)")
    return problems


def count_problems(expected: Mapping[str, int], actual: Mapping[str, int]) -> list[str]:
    """Tables whose row count after a restore differs from the backup's."""
    problems = []
    for table in sorted(set(expected) | set(actual)):
        want, got = expected.get(table), actual.get(table)
        if want is None:
            problems.append(f"表 {table}:备份中没有,恢复后有 {got} 行")
        elif got is None:
            problems.append(f"表 {table}:备份中 {want} 行,恢复后不存在")
        elif want != got:
            problems.append(f"表 {table}:备份中 {want} 行,恢复后 {got} 行")
    return problems
