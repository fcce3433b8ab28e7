use actix_web::{post, web, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAuthor {
    full_name: String,
    born_year: Option<i32>,
}

#[derive(Deserialize)]
pub struct AuthorPath {
    author_id: u64,
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/authors/{author_id:\\d+}")
            .route(web::get().to(get_author))
            // gatehouse: scopes=authors:write
            .route(web::put().to(update_author)),
    );
    cfg.service(create_author);
}

async fn get_author(_path: web::Path<AuthorPath>) -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn update_author(_path: web::Path<AuthorPath>, _body: web::Json<NewAuthor>) -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[post("/authors")]
async fn create_author(_body: web::Json<NewAuthor>) -> HttpResponse {
    HttpResponse::Created().finish()
}
