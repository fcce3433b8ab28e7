from enum import Enum
from typing import Dict, List, Literal, Optional

from pydantic import BaseModel, Field


class Color(str, Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Dimensions(BaseModel):
    """Outer size in centimetres."""

    width: float = Field(gt=0)
    height: float = Field(gt=0)
    depth: Optional[float] = None


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="Display name")
    price: float = Field(ge=0)
    tags: List[str] = []
    color: Optional[Color] = None
    dimensions: Dimensions | None = None
    attributes: Dict[str, str] = {}
    stock: int = Field(default=0, ge=0, le=10000)


class Item(ItemIn):
    id: int


class UserIn(BaseModel):
    username: str = Field(pattern="^[a-z][a-z0-9_]{2,31}$")
    role: Literal["admin", "staff", "customer"] = "customer"
    nicknames: list[str] = []


class UserOut(BaseModel):
    id: int
    username: str
    role: Literal["admin", "staff", "customer"]
    active: bool = True


class Problem(BaseModel):
    """What the API answers with on errors."""

    detail: str
