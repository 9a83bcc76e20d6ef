"""Production settings that refuse to be insecure (settings.py, core/hardening.py):
a start without SECRET_KEY or ALLOWED_HOSTS, or with cookies over plain HTTP, is
refused naming the variable (each in its own process, with only the environment
given); `yingji check --deploy` is clean with the README's production environment;
every page carries the Content-Security-Policy."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from yingji.core import hardening

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _run(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`yingji ARGS` in a process of its own with nothing but `env` (and what any
    process needs): no YINGJI_DEMO from the test settings."""
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT / "src"),
        "YINGJI_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "yingji.settings",
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "yingji.cli", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def production_environment() -> dict[str, str]:
    """The variables of the README's production block (between the
    production-environment markers), the secret key made real."""
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- production-environment -->")[1]
    env = {}
    for line in block.splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    assert "SECRET_KEY" in env and "ALLOWED_HOSTS" in env
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def test_without_secret_key_and_hosts_the_server_refuses_to_start(tmp_path):
    r = _run(tmp_path, "runserver", "127.0.0.1:0", "--noreload")
    assert r.returncode == 2
    assert "配置不安全,拒绝启动" in r.stderr
    assert "SECRET_KEY 未设置" in r.stderr and "ALLOWED_HOSTS 未设置" in r.stderr
    assert "Traceback" not in r.stderr  # the message, not a stack
    assert not (tmp_path / "var" / "secret-key").exists()  # never a made-up key


def test_a_short_or_published_key_is_refused(tmp_path):
    r = _run(tmp_path, "check", SECRET_KEY="changeme", ALLOWED_HOSTS="yingji.example.gov.cn")
    assert r.returncode == 2 and "SECRET_KEY 太短" in r.stderr
    r = _run(
        tmp_path,
        "check",
        SECRET_KEY="django-insecure-" + "x" * 60,
        ALLOWED_HOSTS="yingji.example.gov.cn",
    )
    assert r.returncode == 2 and "SECRET_KEY 是公开的示例值" in r.stderr


def test_cookies_over_plain_http_are_refused_naming_the_variable(tmp_path):
    env = production_environment()
    r = _run(tmp_path, "check", **env, SESSION_COOKIE_SECURE="0")
    assert r.returncode == 2
    assert "SESSION_COOKIE_SECURE=0:生产环境的会话 Cookie 只能经 HTTPS 发送" in r.stderr
    r = _run(tmp_path, "check", **env, CSRF_COOKIE_SECURE="false")
    assert r.returncode == 2 and "CSRF_COOKIE_SECURE=false" in r.stderr


def test_an_audit_retention_under_180_days_is_refused_everywhere(tmp_path):
    r = _run(tmp_path, "check", YINGJI_DEMO="1", YINGJI_AUDIT_RETENTION_DAYS="90")
    assert r.returncode == 2 and "审计日志至少保留 180 天" in r.stderr


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    r = _run(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production_environment())
    assert r.returncode == 0, r.stderr + r.stdout
    assert "System check identified no issues" in r.stdout


def test_the_demo_starts_with_a_key_of_its_own_kept_under_var(tmp_path):
    r = _run(tmp_path, "check", YINGJI_DEMO="1")
    assert r.returncode == 0, r.stderr
    key_file = tmp_path / "var" / "secret-key"
    key = key_file.read_text().strip()
    assert len(key) >= 50 and key_file.stat().st_mode & 0o777 == 0o600
    assert _run(tmp_path, "check", YINGJI_DEMO="1").returncode == 0
    assert key_file.read_text().strip() == key  # the same on the next start


def test_production_turns_hsts_secure_cookies_and_the_second_factor_on(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_SSL_REDIRECT, s.YINGJI_OTP_REQUIRED, s.SESSION_COOKIE_AGE)"
    )
    prod = _run(tmp_path, "shell", "-v", "0", "-c", code, **production_environment())
    assert prod.stdout.split() == ["31536000", "True", "True", "True", "True", "43200"]
    demo = _run(tmp_path, "shell", "-v", "0", "-c", code, YINGJI_DEMO="1")
    assert demo.stdout.split() == ["0", "False", "False", "False", "False", "43200"]


def test_refusals_pure():
    good = {"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "a.example"}
    assert hardening.refusals(good) == []
    assert hardening.refusals({**good, "SESSION_COOKIE_SECURE": "1"}) == []
    assert hardening.is_production({}) and not hardening.is_production({"DEBUG": "1"})
    assert not hardening.is_production({"YINGJI_DEMO": "true"})
    assert hardening.retention_problem("0") is None and hardening.retention_problem("365") is None
    assert "180" in hardening.retention_problem("179")


def test_the_policy_allows_scripts_from_the_site_only():
    policy = hardening.content_security_policy(
        tile_url="https://{s}.tiles.example.cn/{z}/{x}/{y}.png"
    )
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "https://*.tiles.example.cn" in directives["img-src"]
    extra = hardening.parse_csp_extra("connect-src https://api.example.cn; img-src https://x.cn")
    policy = hardening.content_security_policy(extra=extra)
    assert "connect-src 'self' https://api.example.cn" in policy


@pytest.mark.django_db
def test_every_page_carries_the_policy_and_the_security_headers(client):
    r = client.get("/accounts/login/")
    assert r["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")
    assert r["X-Frame-Options"] == "DENY" and r["X-Content-Type-Options"] == "nosniff"
    assert r["Referrer-Policy"] == "same-origin"


def test_no_template_carries_inline_script():
    """The policy forbids inline script and event handlers: none may come back."""
    offenders = []
    for path in (ROOT / "src" / "yingji").rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<script\b([^>]*)>", text):
            attrs = m.group(1)
            if "src=" not in attrs and "application/json" not in attrs:
                offenders.append(f"{path.relative_to(ROOT)}: <script{attrs}>")
        for m in re.finditer(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{path.relative_to(ROOT)}: {m.group().strip()}")
        if "javascript:" in text:
            offenders.append(f"{path.relative_to(ROOT)}: javascript:")
    assert offenders == []


def test_a_page_may_allow_one_inline_script_by_its_hash():
    policy = hardening.with_script_hashes(
        "default-src 'self'; script-src 'self'; object-src 'none'", ["alert(1)"]
    )
    # the hash CSP computes for the script's exact text (base64 of its SHA-256)
    assert policy == (
        "default-src 'self'; script-src 'self' "
        "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='; object-src 'none'"
    )
