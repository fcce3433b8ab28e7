from fastapi import APIRouter, Depends, Path

from ..models import UserIn, UserOut

router = APIRouter()


def current_user(token: str = ""):
    return token


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: int = Path(ge=1), verbose: bool = False):
    return UserOut(id=user_id, username="x", role="staff")


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(user: UserIn, who: str = Depends(current_user)):
    return UserOut(id=1, username=user.username, role=user.role)
