"""The `yingji` console script: Django's management commands under one name.

yingji migrate
yingji regions load guangzhou
yingji plan parse FILE --json
yingji demo [--serve 127.0.0.1:8000]
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        execute_from_command_line(["yingji", *args])
    except ImproperlyConfigured as exc:
        # The settings refuse an insecure production start (core/hardening.py):
        # the message names the variables, a traceback would only hide it.
        if not str(exc).startswith("配置不安全"):
            raise
        print(exc, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
