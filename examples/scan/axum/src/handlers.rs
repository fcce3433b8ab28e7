use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

use crate::models::{ListParams, NewPet, OwnerPet, Pet};
use crate::AppState;

pub async fn health() -> &'static str {
    "ok"
}

/// List pets.
///
/// Paged with `limit` and `offset`.
pub async fn list_pets(State(_state): State<AppState>, Query(_q): Query<ListParams>) -> Json<Vec<Pet>> {
    Json(Vec::new())
}

pub async fn create_pet(Json(_body): Json<NewPet>) -> (StatusCode, Json<Pet>) {
    todo!()
}

pub async fn get_pet(Path(_pet_id): Path<u64>) -> Result<Json<Pet>, StatusCode> {
    Err(StatusCode::NOT_FOUND)
}

pub async fn delete_pet(Path(_pet_id): Path<u64>, _headers: HeaderMap) -> StatusCode {
    StatusCode::NO_CONTENT
}

pub async fn owner_pet(Path(_p): Path<OwnerPet>) -> Json<Pet> {
    todo!()
}

pub async fn reindex(axum::extract::Json(_v): axum::extract::Json<serde_json::Value>) -> StatusCode {
    StatusCode::ACCEPTED
}
