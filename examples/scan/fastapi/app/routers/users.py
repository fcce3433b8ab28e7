from fastapi import APIRouter, Depends, Path

from ..models import Problem, UserIn, UserOut

router = APIRouter()


def current_user(token: str = ""):
    return token


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: int = Path(ge=1), verbose: bool = False):
    return UserOut(id=user_id, username="x", role="staff")


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    responses={409: {"model": Problem, "description": "Username taken"}, 400: {"model": Problem}},
)
def create_user(user: UserIn, who: str = Depends(current_user)):
    return UserOut(id=1, username=user.username, role=user.role)
