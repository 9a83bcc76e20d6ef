"""What settings.py needs to refuse an insecure production start, and the values
an install on one machine generates for itself (pure: no Django).

Production is every start without DEBUG=1 or YINGJI_DEMO=1. There the server
refuses to start (settings raise ImproperlyConfigured) when `refusals(env)` is
not empty: no SECRET_KEY (or a short or well-known one), no ALLOWED_HOSTS, or a
cookie that would travel without TLS. Each message names its variable.

YINGJI_DEMO=1 (make demo, the test suite, the benchmarks) is an install on one
machine over plain HTTP: the secret key is generated once and kept under var/
(`local_secret`), hosts default to the local names, cookies are not Secure.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import string
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

FALSE = {"0", "false", "no", "off"}
# Keys that have been published (Django's own placeholder, this project's old default).
KNOWN_KEYS = ("django-insecure-", "insecure-dev-key")
MIN_AUDIT_RETENTION_DAYS = 180


def is_production(env: Mapping[str, str]) -> bool:
    def on(name: str) -> bool:
        return (env.get(name) or "").strip().lower() in {"1", "true", "yes", "on"}

    return not (on("DEBUG") or on("YINGJI_DEMO"))


def secret_key_problem(key: str) -> str | None:
    if not key:
        return "未设置"
    if key.startswith(KNOWN_KEYS):
        return "是公开的示例值"
    if len(key) < 50 or len(set(key)) < 5:
        return "太短(至少 50 个字符,且不能只由少数几个字符组成)"
    return None


def refusals(env: Mapping[str, str]) -> list[str]:
    """Why a production start is refused (empty: it may start). Only called in
    production; each message starts with the variable to set."""
    problems = []
    key_problem = secret_key_problem(env.get("SECRET_KEY", ""))
    if key_problem:
        problems.append(
            f"SECRET_KEY {key_problem}:请设置一个随机的长密钥,例如 "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))' 的输出"
        )
    hosts = [h.strip() for h in (env.get("ALLOWED_HOSTS") or "").split(",") if h.strip()]
    if not hosts:
        problems.append("ALLOWED_HOSTS 未设置:请填写本站的域名(多个以逗号分隔)")
    for name, what in (
        ("SESSION_COOKIE_SECURE", "会话 Cookie"),
        ("CSRF_COOKIE_SECURE", "CSRF Cookie"),
    ):
        if (env.get(name) or "").strip().lower() in FALSE and env.get(name):
            problems.append(f"{name}={env[name]}:生产环境的{what} 只能经 HTTPS 发送,请删除该变量")
    return problems


def retention_problem(value: str | None) -> str | None:
    """YINGJI_AUDIT_RETENTION_DAYS: 0 or unset keeps entries for ever; otherwise at
    least 180 days (网络安全法第二十一条:网络日志留存不少于六个月)."""
    if value is None or value.strip() == "":
        return None
    try:
        days = int(value)
    except ValueError:
        return f"YINGJI_AUDIT_RETENTION_DAYS={value}:应为天数(整数)"
    if 0 < days < MIN_AUDIT_RETENTION_DAYS or days < 0:
        return (
            f"YINGJI_AUDIT_RETENTION_DAYS={value}:审计日志至少保留 "
            f"{MIN_AUDIT_RETENTION_DAYS} 天(0 为永久保留)"
        )
    return None


def refusal_message(problems: Iterable[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return (
        "配置不安全,拒绝启动:\n"
        f"{lines}\n"
        "生产环境所需的变量见 README「Production」。演示或开发环境请设置 YINGJI_DEMO=1"
        "(make demo 已设置)或 DEBUG=1。"
    )


def local_secret(path: Path, make: Callable[[], str] | None = None) -> str:
    """A secret generated on first use (by `make`, else 50 random URL-safe
    characters) and kept in `path`, readable by its owner only: the same on every
    start of this install, different on every install."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        value = ""
    if value:
        return value
    value = make() if make is not None else secrets.token_urlsafe(50)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name, then linked into place: a process
    # starting at the same moment reads either nothing or the whole secret.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:  # another process was first: theirs is the secret
        value = path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink()
    return value


def demo_password() -> str:
    """A password for the demo accounts: 4 character classes, 20 characters,
    easy to type (no look-alike characters)."""
    alphabet = "".join(c for c in string.ascii_lowercase + string.digits if c not in "lo01")
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)]
    return "Yj-" + "-".join(groups) + "-" + secrets.choice("ABCDEFGHJKMNPQRSTUVWXYZ") + "7"


# ---------------------------------------------------------------- CSP


def tile_source(url: str) -> str | None:
    """The CSP source of a tile URL template ("https://{s}.tile.example/{z}/{x}/{y}.png"
    → "https://*.tile.example"); None for none or a relative URL."""
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "x-subdomain-x"))
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc.replace("x-subdomain-x", "*")
    return f"{parts.scheme}://{host}"


def content_security_policy(*, tile_url: str = "", extra: Mapping[str, str] | None = None) -> str:
    """The pages' policy: scripts only from this site (no inline script, no eval:
    every page's script is a static file); inline styles are allowed (the pages and
    Leaflet set style attributes); images also as data: URIs (charts) and from the
    tile server; nothing may frame the pages or post forms elsewhere."""
    img = ["'self'", "data:", "blob:"]
    tiles = tile_source(tile_url)
    if tiles:
        img.append(tiles)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": " ".join(img),
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    for name, value in (extra or {}).items():
        directives[name] = f"{directives[name]} {value}" if name in directives else value
    return "; ".join(f"{k} {v}" for k, v in directives.items())


# The one inline script a page may carry: a standalone page (the bulletin, also
# written to a file, loads no file of the site) prints itself from its 打印 link.
# Allowed by its hash in that page's own policy (`with_script_hashes`).
PRINT_SCRIPT = (
    'document.addEventListener("click",function(e){var a=e.target.closest&&'
    'e.target.closest("[data-print]");if(a){e.preventDefault();window.print();}});'
)


def script_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def with_script_hashes(policy: str, scripts: Iterable[str]) -> str:
    """`policy` with these inline scripts (their exact text) allowed by hash."""
    hashes = " ".join(script_hash(s) for s in scripts)
    return "; ".join(
        f"{d} {hashes}" if d.startswith("script-src ") else d for d in policy.split("; ")
    )


def parse_csp_extra(value: str) -> dict[str, str]:
    """YINGJI_CSP_EXTRA="img-src https://tiles.example; connect-src https://x" →
    sources added to those directives."""
    extra: dict[str, str] = {}
    for part in value.split(";"):
        name, _, sources = part.strip().partition(" ")
        if name and sources.strip():
            extra[name] = sources.strip()
    return extra
