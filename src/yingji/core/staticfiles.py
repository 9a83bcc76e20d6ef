"""Static files served by the application (WhiteNoise), see docs/deployment.md.

`yingji serve` collects them into VAR_DIR/static with content-hashed names
(app.e968f6261076.css) and a gzip copy of each; WhiteNoise serves a hashed
name with `Cache-Control: max-age=31536000, public, immutable` (a year: a new
version is a new name) and anything else for 60 seconds.

The storage tolerates what the collected manifest cannot answer: a file a vendor
stylesheet refers to that its package does not ship, and a process that renders
pages before anything was collected (the test suite, the benchmarks' test
clients) — those get the plain name, which WhiteNoise serves from the apps'
static folders (WHITENOISE_USE_FINDERS).
"""

from __future__ import annotations

from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage

ONE_YEAR = 365 * 24 * 60 * 60


class StaticStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def hashed_name(self, name, content=None, filename=None):
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:  # "The file … could not be found": not collected here
            if content is not None:
                raise
            return name


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise with a year, not ten, for hashed names (the usual convention;
    caches may cap longer lifetimes anyway)."""

    FOREVER = ONE_YEAR
