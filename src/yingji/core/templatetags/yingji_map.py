"""Template tags of the one map page.

`{% map_config %}` writes the map's settings as a `<script type="application/json">`
block for static/yingji/map.js: optional base-tile URL (settings.YINGJI_TILE_URL;
empty by default because the platform runs offline), centre, and the API URLs.
"""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import json_script
from django.utils.safestring import SafeString

register = template.Library()

MAP_CONFIG_ELEMENT_ID = "yingji-map-config"
_KEY_PLACEHOLDER = "__key__"


@register.simple_tag
def map_config() -> SafeString:
    """The map configuration as an escaped JSON script element."""
    config = {
        "tileUrl": getattr(settings, "YINGJI_TILE_URL", ""),
        "tileAttribution": getattr(settings, "YINGJI_TILE_ATTRIBUTION", ""),
        "center": list(getattr(settings, "YINGJI_MAP_CENTER", [23.13, 113.26])),
        "zoom": int(getattr(settings, "YINGJI_MAP_ZOOM", 9)),
        "layersUrl": reverse("api:geo_layers"),
        "layerUrl": reverse("api:geo_layer", args=[_KEY_PLACEHOLDER]),
        "keyPlaceholder": _KEY_PLACEHOLDER,
        "lookupUrl": reverse("api:geo_lookup"),
    }
    return json_script(config, MAP_CONFIG_ELEMENT_ID)
