"""Bounded query parameters for the API (pure). An out-of-range value is a 422
naming the parameter, never a server error deep in a date or slice."""

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Field

Year = Annotated[int, Field(ge=1949, le=2100, description="年份")]
Quarter = Annotated[int, Field(ge=1, le=4, description="季度 1–4")]
Page = Annotated[int, Field(ge=1, le=1_000_000, description="页码,从 1 开始")]
Limit = Annotated[int, Field(ge=1, le=2000, description="最多条数")]
Hours = Annotated[int, Field(ge=1, le=31 * 24, description="小时数")]
Days = Annotated[int, Field(ge=1, le=366, description="天数")]

# Body fields: counts of people and amounts are stored in 32-bit positive integers
# and 12-digit decimals; anything beyond is a 422 naming the field.
COUNT_MAX = 2_147_483_647
People = Annotated[int, Field(ge=0, le=COUNT_MAX, description="人数(非负整数)")]
Wan = Annotated[float, Field(ge=0, le=9_999_999_999, description="金额(万元,非负)")]


def one_of(values: Iterable[str], default: Any = ..., **kwargs: Any) -> Any:
    """A string field documented with the values it takes (an enum in the OpenAPI
    schema, so clients and the schema tests send real ones). The operation still
    checks the value itself and answers 422 naming the field."""
    return Field(default, json_schema_extra={"enum": list(values)}, **kwargs)


CRS = ("wgs84", "gcj02", "bd09")
