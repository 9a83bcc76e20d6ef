"""yingji (应急): a city emergency-management bureau's platform."""

__version__ = "0.1.0"
