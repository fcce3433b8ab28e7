use axum::routing::{get, post};
use axum::Router;

mod handlers;
mod models;

#[derive(Clone, Default)]
pub struct AppState;

#[tokio::main]
async fn main() {
    let app = Router::new()
        // gatehouse: public
        .route("/healthz", get(handlers::health))
        .nest("/api/v1", api())
        .with_state(AppState);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}

fn api() -> Router<AppState> {
    let pets = Router::new()
        .route("/", get(handlers::list_pets).post(handlers::create_pet))
        // gatehouse: scopes=pets:write
        .route("/{pet_id}", get(handlers::get_pet).delete(handlers::delete_pet));
    Router::new()
        .nest("/pets", pets)
        // axum 0.7 syntax still found in the wild.
        .route("/owners/:owner_id/pets/:pet_id", get(handlers::owner_pet))
        .merge(admin())
}

fn admin() -> Router<AppState> {
    Router::new()
        .route("/admin/stats", get(|| async { "ok" }))
        .route("/admin/reindex", post(handlers::reindex))
}
