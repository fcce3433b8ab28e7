from typing import Annotated, List, Optional

from fastapi import APIRouter, Cookie, Header, Query

from ..models import Item, ItemIn

router = APIRouter(prefix="/items", tags=["items"])


@router.get("/", response_model=List[Item])
def list_items(
    limit: int = 10,
    offset: int = Query(0, ge=0),
    q: Optional[str] = None,
    tag: Annotated[list[str] | None, Query(max_length=20)] = None,
):
    """List items, newest first."""
    return []


@router.get("/{item_id}", responses={404: {"description": "No such item"}})
def get_item(item_id: int, x_request_id: str | None = Header(default=None)) -> Item:
    return Item(id=item_id, name="x", price=1)


# gatehouse: scopes=items:write
@router.post("/", status_code=201, response_model=Item)
def create_item(item: ItemIn):
    return Item(id=1, **item.model_dump())


# gatehouse: scopes=items:write
@router.put("/{item_id}", response_model=Item)
async def replace_item(item_id: int, item: ItemIn):
    return Item(id=item_id, **item.model_dump())


# gatehouse: scopes=items:write summary="Delete one item"
@router.delete("/{item_id}", status_code=204)
def delete_item(item_id: int, session: Annotated[str, Cookie()]):
    return None
