use actix_web::{delete, get, web, App, HttpServer, Responder};
use serde::{Deserialize, Serialize};

mod authors;

#[derive(Serialize)]
pub struct Book {
    id: u32,
    title: String,
    author_ids: Vec<u32>,
}

#[derive(Deserialize)]
pub struct BookQuery {
    /// Substring of the title.
    q: Option<String>,
    page: Option<u32>,
}

#[get("/healthz")]
async fn health() -> impl Responder {
    "ok"
}

/// List books.
#[get("/books")]
async fn list_books(_q: web::Query<BookQuery>) -> web::Json<Vec<Book>> {
    web::Json(Vec::new())
}

// gatehouse: scopes=books:read
#[get("/books/{id}")]
async fn get_book(_id: web::Path<u32>) -> actix_web::Result<web::Json<Book>> {
    Err(actix_web::error::ErrorNotFound("no such book"))
}

// Not registered below: reported, not documented.
#[delete("/books/{id}")]
async fn delete_book(_id: web::Path<u32>) -> impl Responder {
    ""
}

async fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| {
        App::new()
            // gatehouse: public
            .service(health)
            .service(
                web::scope("/api")
                    .service(list_books)
                    .service(get_book)
                    .configure(authors::config),
            )
            .route("/version", web::get().to(version))
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}
