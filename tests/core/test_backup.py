"""`yingji backup` → `yingji restore` into an EMPTY database (a new SQLite file, a
freshly created PostgreSQL database): identical row counts table by table, the
files back, and a user logs in on the restored database."""

import os
import subprocess
import sys
import tarfile
import textwrap
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection

from yingji.core import backup
from yingji.core import backupmanifest as bm
from yingji.core.models import AuditEntry, Department

PASSWORD = "Restore-Check-2026!"

LOGIN = textwrap.dedent(
    """
    import django, sys
    django.setup()
    from django.test import Client
    c = Client()
    r = c.post("/accounts/login/", {"username": "restorer", "password": sys.argv[1]})
    assert r.status_code == 302, (r.status_code, r.content[:300])
    assert c.session.get("_auth_user_id"), "not logged in"
    home = c.get("/")
    assert home.status_code == 200, home.status_code
    print("logged in", home.status_code)
    """
)


@pytest.fixture
def empty_database(tmp_path):
    """The URL of an empty database of the engine under test, dropped afterwards."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    params = dict(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None)
    params["password"] = db["PASSWORD"] or None
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    try:
        yield f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_an_empty_database_with_identical_counts_and_a_login(
    tmp_path, settings, empty_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret-key").write_text("k" * 50)
    evidence = settings.MEDIA_ROOT / "evidence" / "2026" / "photo.jpg"
    evidence.parent.mkdir(parents=True)
    evidence.write_bytes(b"\xff\xd8\xff" + os.urandom(2000))
    user = User.objects.create_user("restorer", password=PASSWORD)
    Department.objects.create(name="备份测试处")
    assert user.pk
    out = tmp_path / "backups"
    out.mkdir()
    stale = [
        bm.name_for(bm.parse_name("yingji-backup-20200101T000000Z.tar").replace(day=d))
        for d in (1, 2)
    ]
    for name in stale:
        (out / name).write_bytes(b"old")

    source = backup.counts_of(dict(connection.settings_dict))
    call_command("backup", dir=str(out), keep=2)
    archives = sorted(out.glob("yingji-backup-*.tar"))
    assert [a.name for a in archives] == [stale[1], archives[-1].name]  # the oldest pruned
    archive = archives[-1]
    assert archive.stat().st_mode & 0o777 == 0o600  # personal data and the secret key
    with tarfile.open(archive) as tar:
        manifest = bm.loads(tar.extractfile(bm.MANIFEST).read())
    assert manifest["engine"] == ("sqlite" if connection.vendor == "sqlite" else "postgresql")
    assert manifest["tables"] == source
    assert manifest["tables"]["auth_user"] >= 1
    assert {"media/evidence/2026/photo.jpg", "config/secret-key"} <= set(manifest["files"])
    assert AuditEntry.objects.filter(action="backup", object_repr=archive.name).exists()

    # The platform's own database has tables: refused without --force.
    with pytest.raises(CommandError, match="不是空的.*--force"):
        call_command("restore", str(archive), no_files=True)

    # A damaged archive is refused before anything is written.
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(archive.read_bytes())
    with tarfile.open(damaged) as tar:
        offset = tar.getmember("media/evidence/2026/photo.jpg").offset_data
    with open(damaged, "r+b") as f:
        f.seek(offset + 100)
        byte = f.read(1)
        f.seek(offset + 100)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(CommandError, match="photo.jpg 校验和不符"):
        call_command("restore", str(damaged), target=empty_database)
    assert backup.counts_of(backup._target(empty_database)) == {}
    # Uploads already there (MEDIA_ROOT still the source's): refused too.
    with pytest.raises(CommandError, match="上传文件目录 .* 不是空的"):
        call_command("restore", str(archive), target=empty_database)
    assert backup.counts_of(backup._target(empty_database)) == {}

    # Into the empty database, files into an empty media directory and VAR_DIR.
    settings.MEDIA_ROOT = tmp_path / "media-restored"
    settings.VAR_DIR = tmp_path / "var-restored"
    settings.VAR_DIR.mkdir()
    call_command("restore", str(archive), target=empty_database)
    restored = backup.counts_of(backup._target(empty_database))
    assert restored == source  # every table, row for row
    assert (settings.MEDIA_ROOT / "evidence/2026/photo.jpg").read_bytes() == evidence.read_bytes()
    assert (settings.VAR_DIR / "secret-key").read_text() == "k" * 50
    assert AuditEntry.objects.filter(action="restore", object_repr=archive.name).exists()

    # A fresh process on the restored database: the user logs in and the home page opens.
    env = {
        **os.environ,
        "DATABASE_URL": empty_database,
        "DJANGO_SETTINGS_MODULE": "yingji.test_settings",
    }
    env.pop("TEST_DATABASE_NAME", None)
    proc = subprocess.run(
        [sys.executable, "-c", LOGIN, PASSWORD],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "logged in 200" in proc.stdout
