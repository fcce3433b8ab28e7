from fastapi import APIRouter

router = APIRouter()


# gatehouse: public
@router.get("/healthz", operation_id="health", summary="Liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
