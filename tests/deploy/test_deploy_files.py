"""The files in deploy/ and the command's refusals, without starting anything."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from yingji.core import deployplan

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "yingji"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def test_the_environment_template_names_every_variable_the_application_reads():
    read = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r'environ(?:\.get)?[\(\[]\s*"([A-Z][A-Z0-9_]+)"', text))
        read |= set(re.findall(r'env_bool\(\s*"([A-Z][A-Z0-9_]+)"', text))
    from yingji.alerts import config as alerts_config
    from yingji.core import channelconfig

    read |= {f"DELIVERY_{k}" for k in channelconfig.DEFAULTS}
    read |= {f"ALERTS_{k}" for k in alerts_config.DEFAULTS}
    read -= {"DJANGO_SETTINGS_MODULE", "TEST_DATABASE_NAME"}
    template = (ROOT / "deploy" / "yingji.env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", template, flags=re.M))
    assert not read - named, f"missing from deploy/yingji.env.example: {sorted(read - named)}"


@pytest.mark.skipif(
    not os.path.exists(HAPROXY) and os.environ.get("CI") != "true",
    reason="haproxy is not installed (CI installs it)",
)
def test_haproxy_accepts_both_configurations(tmp_path):
    lay = deployplan.layout(tmp_path, web=2, port=8100, mqtt_port=18830)
    generated = tmp_path / "haproxy.cfg"
    generated.write_text(deployplan.haproxy_config(lay), encoding="utf-8")
    for cfg in (generated, ROOT / "deploy" / "haproxy.cfg"):
        done = subprocess.run([HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True)
        assert done.returncode == 0, (cfg, done.stdout, done.stderr)


def test_deploy_refuses_sqlite_or_a_missing_redis_saying_why(settings):
    settings.REDIS_URL = ""
    with pytest.raises(CommandError) as refused:
        call_command("deploy", "--dir", "/nonexistent")
    if "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        assert "需要 PostgreSQL" in str(refused.value) and "DATABASE_URL" in str(refused.value)
    else:
        assert "需要 Redis" in str(refused.value) and "REDIS_URL" in str(refused.value)
