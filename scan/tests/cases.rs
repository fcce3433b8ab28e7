//! Small projects written in the test: what is reported, what is left out, and that
//! nothing is guessed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use gatehouse_scan::{scan_dir, Framework, Scan, ScanError};
use serde_json::{json, Value};

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

fn scan(dir: &Path, fw: Framework) -> Scan {
    scan_dir(dir, fw).unwrap_or_else(|e| panic!("scan: {e}"))
}

fn ops(s: &Scan) -> Vec<String> {
    let mut out = Vec::new();
    for (path, item) in s.openapi["paths"].as_object().expect("paths") {
        for m in item.as_object().expect("item").keys() {
            out.push(format!("{} {path}", m.to_uppercase()));
        }
    }
    out.sort();
    out
}

fn gaps(s: &Scan) -> Vec<String> {
    s.report.gaps.iter().map(ToString::to_string).collect()
}

fn has_gap(s: &Scan, needle: &str) -> bool {
    gaps(s).iter().any(|g| g.contains(needle))
}

#[test]
fn fastapi_unreachable_and_unreadable_routes_are_reported_not_guessed() {
    let dir = project(&[
        (
            "main.py",
            r#"
from fastapi import FastAPI, APIRouter
import routes

app = FastAPI()
PREFIX = "/v" + "1"
app.include_router(routes.good, prefix="/api")
app.include_router(routes.computed, prefix=PREFIX)
app.mount("/static", object())

orphan = APIRouter()

@orphan.get("/never")
def never():
    pass

@app.get(f"/dyn/{PREFIX}")
def dynamic():
    pass
"#,
        ),
        (
            "routes.py",
            r#"
from fastapi import APIRouter
good = APIRouter()
computed = APIRouter()

@good.get("/ok")
def ok(limit: int = 10):
    pass

@computed.get("/c")
def c():
    pass
"#,
        ),
        ("broken.py", "def f(:\n  pass\n"),
    ]);
    let s = scan(dir.path(), Framework::Fastapi);
    assert_eq!(ops(&s), vec!["GET /api/ok"]);
    assert!(
        has_gap(&s, "include_router prefix is not a literal"),
        "{:#?}",
        gaps(&s)
    );
    assert!(has_gap(&s, "mounted sub-application"));
    assert!(has_gap(
        &s,
        "`orphan` is not included in any application; its 1 route(s)"
    ));
    assert!(has_gap(&s, "path of `dynamic` is not a literal"));
    assert!(has_gap(&s, "broken.py:0: syntax errors"));
    assert_eq!(
        s.openapi["paths"]["/api/ok"]["get"]["operationId"],
        json!("ok_api_ok_get")
    );
}

#[test]
fn comments_skip_rename_and_report_their_errors() {
    let dir = project(&[(
        "app.py",
        r#"
from flask import Flask
app = Flask(__name__)

# gatehouse: skip
@app.route("/internal")
def internal():
    pass

# gatehouse: operationId=getThing tags=things query=limit!:integer
# gatehouse: bogus scopes
@app.get("/things/<int:id>")
def thing(id):
    pass
"#,
    )]);
    let s = scan(dir.path(), Framework::Flask);
    assert_eq!(ops(&s), vec!["GET /things/{id}"]);
    let op = &s.openapi["paths"]["/things/{id}"]["get"];
    assert_eq!(op["operationId"], json!("getThing"));
    assert_eq!(op["tags"], json!(["things"]));
    assert_eq!(
        op["parameters"],
        json!([
            {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
            {"name": "limit", "in": "query", "required": true, "schema": {"type": "integer"}},
        ])
    );
    // `bogus` is unknown and `scopes` needs a value: both reported on the directive's line.
    assert!(
        has_gap(&s, "app.py:10: gatehouse: `bogus` is not a known directive"),
        "{:#?}",
        gaps(&s)
    );
    assert!(has_gap(&s, "gatehouse: `scopes` is not a known directive"));
    assert!(op.get("security").is_none());
    assert_eq!(s.report.annotated, 1);
}

#[test]
fn express_esm_imports_and_unmounted_routers() {
    let dir = project(&[
        (
            "server.mjs",
            r#"
import express from 'express';
import items from './items.mjs';
import * as admin from './admin/index.mjs';
const app = express();
app.use('/items/', items);
app.use('/admin', admin.router);
"#,
        ),
        (
            "items.mjs",
            r#"
import { Router } from 'express';
const r = Router();
r.get('/:id', function show(req, res) { res.send(req.query.fields); });
r.delete('/:id?', (req, res) => res.end());
export default r;
"#,
        ),
        (
            "admin/index.mjs",
            r#"
import express from 'express';
export const router = express.Router();
router.post('/reset', (req, res) => res.end());
const unused = express.Router();
unused.get('/x', (req, res) => res.end());
"#,
        ),
    ]);
    let s = scan(dir.path(), Framework::Express);
    assert_eq!(
        ops(&s),
        vec!["DELETE /items/{id}", "GET /items/{id}", "POST /admin/reset"]
    );
    let get = &s.openapi["paths"]["/items/{id}"]["get"];
    assert_eq!(get["operationId"], json!("show"));
    assert_eq!(get["parameters"][1]["name"], json!("fields"));
    assert!(has_gap(&s, "optional parameter `:id?`"), "{:#?}", gaps(&s));
    assert!(has_gap(&s, "router `unused` is not mounted"));
}

#[test]
fn axum_shared_handler_gets_distinct_operation_ids() {
    let dir = project(&[(
        "src/main.rs",
        r#"
use axum::{routing::get, Router};
async fn list() -> &'static str { "" }
fn app() -> Router {
    Router::new()
        .route("/a", get(list))
        .route("/b", get(list))
        .nest_service("/static", tower_http::services::ServeDir::new("s"))
}
"#,
    )]);
    let s = scan(dir.path(), Framework::Axum);
    assert_eq!(ops(&s), vec!["GET /a", "GET /b"]);
    assert_eq!(
        s.openapi["paths"]["/a"]["get"]["operationId"],
        json!("list")
    );
    assert_eq!(
        s.openapi["paths"]["/b"]["get"]["operationId"],
        json!("list_2")
    );
    assert!(has_gap(
        &s,
        "operationId `list` is taken; `list_2` used instead"
    ));
    assert!(has_gap(&s, "nest_service() mounts a tower service"));
}

#[test]
fn auto_reads_every_framework_in_the_tree() {
    let dir = project(&[
        (
            "api/main.py",
            "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/py')\ndef py():\n    pass\n",
        ),
        (
            "web/index.js",
            "const express = require('express');\nconst app = express();\napp.get('/js', (req, res) => res.end());\n",
        ),
        ("node_modules/x/index.js", "const app = require('express')(); app.get('/no', h);\n"),
    ]);
    let s = scan(dir.path(), Framework::Auto);
    assert_eq!(ops(&s), vec!["GET /js", "GET /py"]);
    assert_eq!(s.report.frameworks, vec!["express", "fastapi"]);
}

#[test]
fn errors_when_nothing_is_found_or_no_directory() {
    let dir = project(&[("a.py", "x = 1\n")]);
    assert!(matches!(
        scan_dir(dir.path(), Framework::Flask),
        Err(ScanError::Nothing { .. })
    ));
    assert!(matches!(
        scan_dir(&dir.path().join("a.py"), Framework::Auto),
        Err(ScanError::NotADirectory(_))
    ));
    // Auto on a tree without routes is an empty document, not an error.
    let s = scan(dir.path(), Framework::Auto);
    assert_eq!(s.openapi["paths"], Value::Object(serde_json::Map::new()));
}

#[test]
fn axum_associated_functions_tuples_and_qualified_types() {
    let dir = project(&[
        (
            "src/main.rs",
            r#"
use axum::{extract::{Path, Json}, routing::{get, put}, Router};
mod a { #[derive(serde::Deserialize)] pub struct Item { pub x: u8 } }
mod b;
struct Api;
impl Api {
    fn router() -> Router {
        Router::new().route("/o/{org}/i/{n}", put(Api::put_item).get(get_item))
    }
    async fn put_item(Path((org, n)): Path<(String, i64)>, Json(i): Json<a::Item>) -> Json<a::Item> { Json(i) }
}
async fn get_item(Path(p): Path<Ids>) -> String { String::new() }
#[derive(serde::Deserialize)]
struct Ids { org: String, #[serde(rename = "n")] number: u32 }
fn main() { let _ = Api::router(); }
"#,
        ),
        (
            "src/b.rs",
            "#[derive(serde::Deserialize)] pub struct Item { pub y: String }\n",
        ),
    ]);
    let s = scan(dir.path(), Framework::Axum);
    assert_eq!(ops(&s), vec!["GET /o/{org}/i/{n}", "PUT /o/{org}/i/{n}"]);
    let item = &s.openapi["paths"]["/o/{org}/i/{n}"];
    assert_eq!(item["put"]["operationId"], json!("put_item"));
    assert_eq!(
        item["put"]["parameters"][1]["schema"],
        json!({"type": "integer", "format": "int64"})
    );
    assert_eq!(
        item["get"]["parameters"][1]["schema"],
        json!({"type": "integer", "format": "int32", "minimum": 0})
    );
    assert_eq!(
        item["put"]["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Item"})
    );
    // `a::Item` is the one in `mod a`, not the `Item` of src/b.rs.
    assert_eq!(
        s.openapi["components"]["schemas"]["Item"]["properties"],
        json!({"x": {"type": "integer", "format": "int32", "minimum": 0}})
    );
    assert!(!has_gap(&s, "Item"), "{:#?}", gaps(&s));
}

#[test]
fn rust_type_defined_twice_unqualified_is_reported() {
    let dir = project(&[
        (
            "src/main.rs",
            r#"
use actix_web::{post, web, App};
use serde::Deserialize;
mod a;
mod b;
#[post("/x")]
async fn x(_b: web::Json<Item>) -> web::Json<a::Item> { todo!() }
fn main() { App::new().service(x); }
"#,
        ),
        (
            "src/a.rs",
            "#[derive(serde::Serialize, serde::Deserialize)] pub struct Item { pub a: bool }\n",
        ),
        (
            "src/b.rs",
            "#[derive(serde::Deserialize)] pub struct Item { pub b: bool }\n",
        ),
    ]);
    let s = scan(dir.path(), Framework::Actix);
    assert_eq!(ops(&s), vec!["POST /x"]);
    assert!(
        has_gap(&s, "`Item` is defined 2 times; the one in src/a.rs is used"),
        "{:#?}",
        gaps(&s)
    );
    let resp = &s.openapi["paths"]["/x"]["post"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert_eq!(resp, &json!({"$ref": "#/components/schemas/Item"}));
}

#[test]
fn express_typescript_types_become_schemas() {
    let dir = project(&[
        (
            "app.ts",
            r#"
import express, { Request, Response } from 'express';
import { Node } from './model';
const app = express();
type Q = { depth: number; mode?: 'flat' | 'tree'; page?: Missing };
app.put('/nodes/:id', (req: Request<{ id: string }, Node, Node, Q>, res: Response<Node>) => res.json(req.body));
"#,
        ),
        (
            "model.ts",
            "export interface Node { id: string; children: Node[]; parent: Node | null; weight?: 1 | 2 }\n",
        ),
    ]);
    let s = scan(dir.path(), Framework::Express);
    let op = &s.openapi["paths"]["/nodes/{id}"]["put"];
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Node"})
    );
    assert_eq!(
        op["parameters"][1],
        json!({"name": "depth", "in": "query", "required": true, "schema": {"type": "number"}})
    );
    assert_eq!(
        op["parameters"][2]["schema"],
        json!({"type": "string", "enum": ["flat", "tree"]})
    );
    // A recursive interface is one component referring to itself.
    let node = &s.openapi["components"]["schemas"]["Node"];
    assert_eq!(
        node["properties"]["children"]["items"],
        json!({"$ref": "#/components/schemas/Node"})
    );
    assert_eq!(
        node["properties"]["parent"],
        json!({"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]})
    );
    assert_eq!(node["required"], json!(["id", "children", "parent"]));
    assert!(
        has_gap(&s, "TypeScript type `Missing` not found"),
        "{:#?}",
        gaps(&s)
    );
}
