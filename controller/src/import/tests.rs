use super::*;
use crate::load::parse_documents;
use crate::resource::LoadedProvider;
use gatehouse_filter::config::FilterConfig;
use serde_json::json;

fn swagger(extra: Value) -> Value {
    let mut doc = json!({
        "swagger": "2.0",
        "info": {"title": "Pets", "version": "1"},
        "paths": {}
    });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    doc
}

fn convert(doc: &Value) -> Value {
    swagger2::convert(doc).0
}

fn op<'v>(doc: &'v Value, path: &str, method: &str) -> &'v Value {
    &doc["paths"][path][method]
}

/// Loads the imported YAML with the resource loader and compiles it (with stand-in
/// IdentityProviders for the ones the policies name).
fn compile_imported(imported: &Imported) -> Result<FilterConfig, Vec<crate::CompileError>> {
    let mut yaml = imported.to_yaml().unwrap();
    for p in &imported.referenced_providers {
        if imported.providers.iter().any(|s| {
            format!(
                "{}/{}",
                s["metadata"]["namespace"].as_str().unwrap(),
                s["metadata"]["name"].as_str().unwrap()
            ) == *p
        }) {
            continue;
        }
        let (ns, name) = p.split_once('/').unwrap();
        yaml.push_str(&format!(
            "---\napiVersion: gatehouse.dev/v1alpha1\nkind: IdentityProvider\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{issuer: 'https://{name}.test', jwksUri: 'https://{name}.test/k', jwksCluster: idp}}\n"
        ));
    }
    let loaded = parse_documents(Path::new("imported.yaml"), &yaml);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let providers: Vec<LoadedProvider> = loaded.providers;
    crate::compile_with_providers(&loaded.resources, &providers)
}

// ---- Swagger 2.0 conversion, one construct at a time ----

#[test]
fn definitions_become_component_schemas_and_refs_follow() {
    let doc = convert(&swagger(json!({
        "definitions": {
            "Pet": {"type": "object", "properties": {
                "tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}},
                "owner": {"allOf": [{"$ref": "#/definitions/Owner"}]}
            }},
            "Tag": {"type": "string"},
            "Owner": {"type": "object"}
        },
        "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok",
            "schema": {"$ref": "#/definitions/Pet"}}}}}}
    })));
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc.get("definitions").is_none());
    let pet = &doc["components"]["schemas"]["Pet"];
    assert_eq!(
        pet["properties"]["tags"]["items"]["$ref"],
        "#/components/schemas/Tag"
    );
    assert_eq!(
        pet["properties"]["owner"]["allOf"][0]["$ref"],
        "#/components/schemas/Owner"
    );
    assert_eq!(
        op(&doc, "/pets", "get")["responses"]["200"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/Pet"
    );
}

#[test]
fn body_parameter_becomes_request_body_per_consumed_type() {
    let doc = convert(&swagger(json!({
        "consumes": ["application/json", "application/xml"],
        "paths": {"/pets": {"post": {
            "parameters": [{"in": "body", "name": "pet", "required": true, "description": "the pet",
                            "x-extra": 1, "schema": {"$ref": "#/definitions/Pet"}}],
            "responses": {"201": {"description": "made"}}
        }, "put": {
            "consumes": ["text/plain"],
            "parameters": [{"in": "body", "name": "raw", "schema": {"type": "string"}}],
            "responses": {}
        }}},
        "definitions": {"Pet": {"type": "object"}}
    })));
    let body = &op(&doc, "/pets", "post")["requestBody"];
    assert_eq!(body["required"], true);
    assert_eq!(body["description"], "the pet");
    assert_eq!(body["x-extra"], 1);
    assert_eq!(body["x-codegen-request-body-name"], "pet");
    let content = body["content"].as_object().unwrap();
    assert_eq!(
        content.keys().collect::<Vec<_>>(),
        ["application/json", "application/xml"]
    );
    assert_eq!(
        content["application/xml"]["schema"]["$ref"],
        "#/components/schemas/Pet"
    );
    assert!(op(&doc, "/pets", "post").get("parameters").is_none());
    // The operation's `consumes` replaces the global one; no `required` means optional.
    let put = &op(&doc, "/pets", "put")["requestBody"];
    assert_eq!(
        put["content"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["text/plain"]
    );
    assert!(put.get("required").is_none());
}

#[test]
fn body_under_form_consumes_is_the_form_schema() {
    let doc = convert(&swagger(json!({"paths": {"/a": {"post": {
        "consumes": ["application/x-www-form-urlencoded"],
        "parameters": [{"in": "body", "name": "b", "schema": {"type": "object", "properties": {"x": {"type": "integer"}}}}],
        "responses": {}}}}})));
    let content = op(&doc, "/a", "post")["requestBody"]["content"]
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(
        content.keys().collect::<Vec<_>>(),
        ["application/x-www-form-urlencoded"]
    );
    assert_eq!(
        content["application/x-www-form-urlencoded"]["schema"]["properties"]["x"]["type"],
        "integer"
    );
}

#[test]
fn body_without_consumes_is_json() {
    let doc = convert(&swagger(json!({"paths": {"/a": {"post": {
        "parameters": [{"in": "body", "name": "b", "schema": {"type": "object"}}], "responses": {}}}}})));
    assert!(op(&doc, "/a", "post")["requestBody"]["content"]["application/json"].is_object());
}

#[test]
fn form_data_becomes_urlencoded_or_multipart() {
    let doc = convert(&swagger(json!({"paths": {
        "/login": {"post": {"parameters": [
            {"in": "formData", "name": "user", "type": "string", "required": true, "description": "who"},
            {"in": "formData", "name": "age", "type": "integer", "minimum": 0},
            {"in": "formData", "name": "tags", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"}
        ], "responses": {}}},
        "/upload": {"post": {"parameters": [
            {"in": "formData", "name": "file", "type": "file", "required": true},
            {"in": "query", "name": "note", "type": "string"}
        ], "responses": {}}},
        "/both": {"post": {"consumes": ["multipart/form-data", "application/x-www-form-urlencoded"],
            "parameters": [{"in": "formData", "name": "x", "type": "string"}], "responses": {}}}
    }})));
    let login = &op(&doc, "/login", "post")["requestBody"];
    assert_eq!(login["required"], true);
    let media = &login["content"]["application/x-www-form-urlencoded"];
    let schema = &media["schema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["user"]));
    assert_eq!(
        schema["properties"]["user"],
        json!({"type": "string", "description": "who"})
    );
    assert_eq!(
        schema["properties"]["age"],
        json!({"type": "integer", "minimum": 0})
    );
    assert_eq!(
        media["encoding"]["tags"],
        json!({"style": "form", "explode": true})
    );
    let upload = &op(&doc, "/upload", "post");
    let file =
        &upload["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["file"];
    assert_eq!(file, &json!({"type": "string", "format": "binary"}));
    assert_eq!(upload["parameters"][0]["name"], "note");
    let both = op(&doc, "/both", "post")["requestBody"]["content"]
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(both.len(), 2);
}

#[test]
fn form_bodies_compile_into_form_validation() {
    let doc = swagger(
        json!({"paths": {"/login": {"post": {"operationId": "login", "parameters": [
        {"in": "formData", "name": "age", "type": "integer", "required": true}
    ], "responses": {"200": {"description": "ok"}}}}}}),
    );
    let options = ImportOptions {
        hosts: vec!["pets.test".into()],
        validation: Some(ValidationMode::Enforce),
        ..ImportOptions::default()
    };
    let imported = to_apischema(doc, &options).unwrap();
    let config = compile_imported(&imported).unwrap();
    let body = config.apis[0].operations[0]
        .request
        .as_ref()
        .unwrap()
        .body
        .as_ref()
        .unwrap();
    assert!(body.required);
    assert_eq!(
        body.content[0].media_type,
        "application/x-www-form-urlencoded"
    );
    assert_eq!(body.content[0].form.len(), 1);
}

#[test]
fn produces_gives_response_content_types() {
    let doc = convert(&swagger(json!({
        "produces": ["application/json"],
        "paths": {"/a": {
            "get": {"responses": {"200": {"description": "ok", "schema": {"type": "string"}},
                                  "204": {"description": "none"}}},
            "put": {"produces": ["text/csv", "application/xml"],
                    "responses": {"200": {"schema": {"type": "string"},
                                          "examples": {"text/csv": "a,b"}}}}
        }}
    })));
    let get = &op(&doc, "/a", "get")["responses"];
    assert_eq!(
        get["200"]["content"]["application/json"]["schema"]["type"],
        "string"
    );
    assert!(get["204"].get("content").is_none());
    let put = &op(&doc, "/a", "put")["responses"]["200"];
    assert_eq!(put["description"], "", "description is required in 3.0");
    assert_eq!(
        put["content"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["application/xml", "text/csv"]
    );
    assert_eq!(put["content"]["text/csv"]["example"], "a,b");
}

#[test]
fn response_headers_get_schemas() {
    let doc = convert(&swagger(
        json!({"paths": {"/a": {"get": {"responses": {"200": {
            "description": "ok",
            "headers": {"X-Rate": {"type": "integer", "description": "left", "x-h": true}}
        }}}}}}),
    ));
    let h = &op(&doc, "/a", "get")["responses"]["200"]["headers"]["X-Rate"];
    assert_eq!(
        h,
        &json!({"description": "left", "x-h": true, "schema": {"type": "integer"}})
    );
}

#[test]
fn security_definitions_become_security_schemes() {
    let doc = convert(&swagger(json!({"securityDefinitions": {
        "basic": {"type": "basic"},
        "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
        "implicit": {"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a/auth", "scopes": {"r": "read"}},
        "password": {"type": "oauth2", "flow": "password", "tokenUrl": "https://a/token", "scopes": {}},
        "app": {"type": "oauth2", "flow": "application", "tokenUrl": "https://a/token", "scopes": {}},
        "code": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a/auth", "tokenUrl": "https://a/token", "scopes": {"w": "write"}}
    }})));
    let s = &doc["components"]["securitySchemes"];
    assert_eq!(s["basic"], json!({"type": "http", "scheme": "basic"}));
    assert_eq!(
        s["key"],
        json!({"type": "apiKey", "name": "X-Key", "in": "header"})
    );
    assert_eq!(
        s["implicit"]["flows"]["implicit"],
        json!({"authorizationUrl": "https://a/auth", "scopes": {"r": "read"}})
    );
    assert_eq!(
        s["password"]["flows"]["password"]["tokenUrl"],
        "https://a/token"
    );
    assert_eq!(
        s["app"]["flows"]["clientCredentials"]["tokenUrl"],
        "https://a/token"
    );
    assert_eq!(
        s["code"]["flows"]["authorizationCode"],
        json!({"authorizationUrl": "https://a/auth", "tokenUrl": "https://a/token", "scopes": {"w": "write"}})
    );
}

#[test]
fn host_base_path_and_schemes_become_servers() {
    let servers = |extra: Value| convert(&swagger(extra))["servers"].clone();
    assert_eq!(
        servers(json!({"host": "api.test:8443", "basePath": "/v1", "schemes": ["https", "http"]})),
        json!([{"url": "https://api.test:8443/v1"}, {"url": "http://api.test:8443/v1"}])
    );
    assert_eq!(
        servers(json!({"host": "api.test"})),
        json!([{"url": "//api.test"}])
    );
    assert_eq!(servers(json!({"basePath": "/v2"})), json!([{"url": "/v2"}]));
    assert_eq!(servers(json!({})), Value::Null);
}

#[test]
fn collection_formats_become_styles() {
    let doc = convert(&swagger(
        json!({"paths": {"/a/{ids}": {"get": {"parameters": [
        {"in": "path", "name": "ids", "required": true, "type": "array", "items": {"type": "integer"}},
        {"in": "query", "name": "csv", "type": "array", "items": {"type": "string"}},
        {"in": "query", "name": "ssv", "type": "array", "items": {"type": "string"}, "collectionFormat": "ssv"},
        {"in": "query", "name": "pipes", "type": "array", "items": {"type": "string"}, "collectionFormat": "pipes"},
        {"in": "query", "name": "multi", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"},
        {"in": "header", "name": "X-L", "type": "array", "items": {"type": "string"}, "collectionFormat": "csv"},
        {"in": "query", "name": "tsv", "type": "array", "items": {"type": "string"}, "collectionFormat": "tsv"}
    ], "responses": {}}}}}),
    ));
    let (converted, warnings) = swagger2::convert(&swagger(
        json!({"paths": {"/a": {"get": {"parameters": [
        {"in": "query", "name": "tsv", "type": "array", "items": {"type": "string"}, "collectionFormat": "tsv"}
    ], "responses": {}}}}}),
    ));
    assert!(converted.is_object());
    assert!(warnings.iter().any(|w| w.message.contains("tsv")));
    let params = op(&doc, "/a/{ids}", "get")["parameters"]
        .as_array()
        .unwrap()
        .clone();
    let style = |i: usize| {
        (
            params[i].get("style").cloned(),
            params[i].get("explode").cloned(),
        )
    };
    assert_eq!(
        style(0),
        (None, None),
        "path csv is the default simple style"
    );
    assert_eq!(
        params[0]["schema"],
        json!({"type": "array", "items": {"type": "integer"}})
    );
    assert_eq!(
        style(1),
        (None, Some(json!(false))),
        "query csv: form, not exploded"
    );
    assert_eq!(
        style(2),
        (Some(json!("spaceDelimited")), Some(json!(false)))
    );
    assert_eq!(style(3), (Some(json!("pipeDelimited")), Some(json!(false))));
    assert_eq!(
        style(4),
        (None, None),
        "multi is form + explode, the query default"
    );
    assert_eq!(style(5), (None, None));
    assert!(params
        .iter()
        .all(|p| p.get("collectionFormat").is_none() && p.get("type").is_none()));
}

#[test]
fn value_keywords_move_into_the_parameter_schema() {
    let doc = convert(&swagger(json!({"paths": {"/a": {"get": {"parameters": [
        {"in": "query", "name": "limit", "type": "integer", "format": "int32", "minimum": 1,
         "maximum": 100, "default": 10, "enum": [10, 50, 100], "x-nullable": true,
         "allowEmptyValue": true, "x-p": "kept"}
    ], "responses": {}}}}})));
    let p = &op(&doc, "/a", "get")["parameters"][0];
    assert_eq!(
        p["schema"],
        json!({"type": "integer", "format": "int32", "minimum": 1, "maximum": 100,
                                    "default": 10, "enum": [10, 50, 100], "nullable": true})
    );
    assert_eq!(p["allowEmptyValue"], true);
    assert_eq!(p["x-p"], "kept");
}

#[test]
fn schema_fixes_nullable_file_and_discriminator() {
    let doc = convert(&swagger(json!({"definitions": {
        "Pet": {"type": "object", "discriminator": "kind", "x-nullable": true,
                "properties": {"photo": {"type": "file"}, "name": {"type": "string", "x-nullable": true}}}
    }})));
    let pet = &doc["components"]["schemas"]["Pet"];
    assert_eq!(pet["discriminator"], json!({"propertyName": "kind"}));
    assert_eq!(pet["nullable"], true);
    assert!(pet.get("x-nullable").is_none());
    assert_eq!(
        pet["properties"]["photo"],
        json!({"type": "string", "format": "binary"})
    );
    assert_eq!(pet["properties"]["name"]["nullable"], true);
}

#[test]
fn global_parameters_and_responses_become_components() {
    let doc = convert(&swagger(json!({
        "parameters": {
            "limit": {"in": "query", "name": "limit", "type": "integer"},
            "pet": {"in": "body", "name": "pet", "schema": {"type": "object"}},
            "note": {"in": "formData", "name": "note", "type": "string"}
        },
        "responses": {"NotFound": {"description": "nope", "schema": {"type": "string"}}},
        "paths": {"/a": {"post": {"parameters": [
            {"$ref": "#/parameters/limit"}, {"$ref": "#/parameters/pet"}
        ], "responses": {"404": {"$ref": "#/responses/NotFound"}}},
        "put": {"parameters": [{"$ref": "#/parameters/note"}], "responses": {}}}}
    })));
    let c = &doc["components"];
    assert_eq!(
        c["parameters"]["limit"]["schema"],
        json!({"type": "integer"})
    );
    assert!(c["parameters"].get("pet").is_none() && c["parameters"].get("note").is_none());
    assert!(c["requestBodies"]["pet"]["content"]["application/json"].is_object());
    assert_eq!(
        c["responses"]["NotFound"]["content"]["application/json"]["schema"]["type"],
        "string"
    );
    let post = op(&doc, "/a", "post");
    assert_eq!(
        post["parameters"],
        json!([{"$ref": "#/components/parameters/limit"}])
    );
    assert_eq!(
        post["requestBody"],
        json!({"$ref": "#/components/requestBodies/pet"})
    );
    assert_eq!(
        post["responses"]["404"],
        json!({"$ref": "#/components/responses/NotFound"})
    );
    // A form field defined globally is inlined into the operation's form body.
    let put = op(&doc, "/a", "put");
    assert!(
        put["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]
            ["note"]
            .is_object()
    );
}

#[test]
fn path_level_body_and_value_parameters() {
    let doc = convert(&swagger(json!({"paths": {"/a/{id}": {
        "parameters": [
            {"in": "path", "name": "id", "required": true, "type": "string"},
            {"in": "body", "name": "b", "schema": {"type": "object"}}
        ],
        "put": {"responses": {}},
        "patch": {"parameters": [{"in": "body", "name": "b2", "schema": {"type": "array"}}], "responses": {}}
    }}})));
    let item = &doc["paths"]["/a/{id}"];
    assert_eq!(item["parameters"][0]["name"], "id");
    assert_eq!(item["parameters"].as_array().unwrap().len(), 1);
    assert_eq!(
        item["put"]["requestBody"]["content"]["application/json"]["schema"]["type"],
        "object"
    );
    assert_eq!(
        item["patch"]["requestBody"]["content"]["application/json"]["schema"]["type"],
        "array"
    );
}

#[test]
fn vendor_extensions_are_kept_everywhere() {
    let doc = convert(&swagger(json!({
        "x-root": 1,
        "info": {"title": "t", "version": "1", "x-logo": "l"},
        "paths": {"x-path-ext": {"a": 1}, "/a": {"x-item": 2, "get": {"x-op": 3, "responses": {
            "200": {"description": "", "x-resp": 4}, "x-responses-ext": 5}}}}
    })));
    assert_eq!(doc["x-root"], 1);
    assert_eq!(doc["info"]["x-logo"], "l");
    assert_eq!(doc["paths"]["x-path-ext"], json!({"a": 1}));
    assert_eq!(doc["paths"]["/a"]["x-item"], 2);
    assert_eq!(op(&doc, "/a", "get")["x-op"], 3);
    assert_eq!(op(&doc, "/a", "get")["responses"]["200"]["x-resp"], 4);
    assert_eq!(op(&doc, "/a", "get")["responses"]["x-responses-ext"], 5);
}

#[test]
fn converted_petstore_compiles_with_enforce() {
    let doc = swagger(json!({
        "host": "pets.test", "basePath": "/v2", "schemes": ["https"],
        "consumes": ["application/json"],
        "definitions": {"Pet": {"type": "object", "required": ["name"],
                                "properties": {"name": {"type": "string"}, "tag": {"type": "string", "x-nullable": true}}}},
        "paths": {
            "/pets": {"get": {"operationId": "list", "parameters": [
                {"in": "query", "name": "tags", "type": "array", "items": {"type": "string"}, "collectionFormat": "pipes"},
                {"in": "query", "name": "limit", "type": "integer", "maximum": 100}
            ], "responses": {"200": {"description": "ok"}}},
            "post": {"operationId": "create", "parameters": [
                {"in": "body", "name": "pet", "required": true, "schema": {"$ref": "#/definitions/Pet"}}
            ], "responses": {"201": {"description": "made"}}}}
        }
    }));
    let options = ImportOptions {
        validation: Some(ValidationMode::Enforce),
        ..ImportOptions::default()
    };
    let imported = to_apischema(doc, &options).unwrap();
    assert_eq!(imported.api_schema["spec"]["hosts"], json!(["pets.test"]));
    let config = compile_imported(&imported).unwrap();
    let api = &config.apis[0];
    assert_eq!(api.base_path, "/v2");
    assert_eq!(api.operations.len(), 2);
    let create = api
        .operations
        .iter()
        .find(|o| o.operation_id == "create")
        .unwrap();
    assert!(
        create
            .request
            .as_ref()
            .unwrap()
            .body
            .as_ref()
            .unwrap()
            .required
    );
    let list = api
        .operations
        .iter()
        .find(|o| o.operation_id == "list")
        .unwrap();
    assert_eq!(list.request.as_ref().unwrap().parameters.len(), 2);
}

// ---- security ----

fn secured(security: Value, op_security: Option<Value>) -> Value {
    let mut doc = json!({
        "openapi": "3.0.3", "info": {"title": "s", "version": "1"},
        "servers": [{"url": "https://api.test/v1"}],
        "components": {"securitySchemes": {
            "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://t", "scopes": {}}}},
            "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://sso.test/realms/x/.well-known/openid-configuration"},
            "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
            "basic": {"type": "http", "scheme": "basic"}
        }},
        "security": security,
        "paths": {
            "/a": {"get": {"operationId": "a", "responses": {"200": {"description": ""}}}},
            "/b": {"get": {"operationId": "b", "responses": {"200": {"description": ""}}}}
        }
    });
    if let Some(s) = op_security {
        doc["paths"]["/b"]["get"]["security"] = s;
    }
    doc
}

fn import_default(doc: Value) -> Imported {
    to_apischema(doc, &ImportOptions::default()).unwrap()
}

#[test]
fn security_or_of_ands_maps_onto_auth() {
    let imported = import_default(secured(
        json!([{"oauth": ["pets:read", "pets:write"], "jwt": []}, {"oidc": ["openid"]}]),
        Some(json!([])),
    ));
    let policies = &imported.api_schema["spec"]["policies"];
    assert_eq!(
        policies["defaults"]["auth"],
        json!({"anyOf": [
            {"allOf": [{"provider": "jwt"}, {"provider": "oauth", "scopes": ["pets:read", "pets:write"]}]},
            {"allOf": [{"provider": "oidc", "scopes": ["openid"]}]}
        ]})
    );
    // `security: []` on one operation: public, even though the API requires a token.
    assert_eq!(policies["operations"]["b"]["auth"], json!({"anyOf": []}));
    assert!(policies["operations"].get("a").is_none());
    assert_eq!(
        imported
            .referenced_providers
            .iter()
            .cloned()
            .collect::<Vec<_>>(),
        ["default/jwt", "default/oauth", "default/oidc"]
    );
    // The openIdConnect scheme comes with an IdentityProvider using discovery.
    assert_eq!(imported.providers.len(), 1);
    let p = &imported.providers[0];
    assert_eq!(p["metadata"]["name"], "oidc");
    assert_eq!(
        p["spec"],
        json!({"issuer": "https://sso.test/realms/x", "oidcDiscovery": true, "jwksCluster": "sso.test"})
    );
    let config = compile_imported(&imported).unwrap();
    let b = config.apis[0]
        .operations
        .iter()
        .find(|o| o.operation_id == "b")
        .unwrap();
    assert_eq!(b.policies.auth.as_ref().unwrap().any_of.len(), 0);
    assert!(config
        .providers
        .iter()
        .any(|p| p.name == "default/oidc" && p.oidc_discovery == Some(true)));
}

#[test]
fn operation_security_overrides_and_anonymous_alternative() {
    let imported = import_default(secured(json!([]), Some(json!([{"jwt": []}]))));
    let policies = &imported.api_schema["spec"]["policies"];
    assert!(
        policies.get("defaults").is_none(),
        "global `security: []` sets no default"
    );
    assert_eq!(
        policies["operations"]["b"]["auth"],
        json!({"anyOf": [{"allOf": [{"provider": "jwt"}]}]})
    );
    // `{}` among the alternatives: anonymous access allowed, so nothing is required.
    let imported = import_default(secured(json!([{"jwt": []}, {}]), None));
    assert!(imported.api_schema["spec"].get("policies").is_none());
}

#[test]
fn unchecked_schemes_are_left_to_the_upstream() {
    let imported = import_default(secured(
        json!([{"jwt": []}]),
        Some(json!([{"key": []}, {"jwt": []}])),
    ));
    let policies = &imported.api_schema["spec"]["policies"];
    assert_eq!(policies["operations"]["b"]["auth"], json!({"anyOf": []}));
    assert!(imported
        .warnings
        .iter()
        .any(|w| w.code == "auth-upstream" && w.message.contains("`key`")));
    // Mapped explicitly, an apiKey scheme is a provider like any other.
    let mut options = ImportOptions::default();
    options
        .provider_map
        .insert("key".into(), "security/keys".into());
    options.provider_map.insert("typo".into(), "x".into());
    let imported = to_apischema(secured(json!([{"key": []}]), None), &options).unwrap();
    assert_eq!(
        imported.api_schema["spec"]["policies"]["defaults"]["auth"],
        json!({"anyOf": [{"allOf": [{"provider": "security/keys"}]}]})
    );
    assert!(imported.referenced_providers.contains("security/keys"));
    assert!(imported
        .warnings
        .iter()
        .any(|w| w.code == "provider-map" && w.message.contains("typo")));
}

#[test]
fn swagger_security_maps_through_the_conversion() {
    let doc = swagger(json!({
        "securityDefinitions": {"petstore_auth": {"type": "oauth2", "flow": "implicit",
            "authorizationUrl": "https://a", "scopes": {"write:pets": ""}}},
        "paths": {"/pets": {"post": {"operationId": "add", "security": [{"petstore_auth": ["write:pets"]}],
                                     "responses": {}}}}
    }));
    let imported = import_default(doc);
    assert_eq!(
        imported.api_schema["spec"]["policies"]["operations"]["add"]["auth"],
        json!({"anyOf": [{"allOf": [{"provider": "petstore-auth", "scopes": ["write:pets"]}]}]})
    );
}

// ---- resources, ConfigMap, errors ----

#[test]
fn resource_fields_follow_the_options() {
    let options = ImportOptions {
        name: Some("pets".into()),
        namespace: Some("shop".into()),
        hosts: vec!["a.test".into(), "b.test".into()],
        base_path: Some("/api".into()),
        strict: true,
        validation: Some(ValidationMode::Report),
        ..ImportOptions::default()
    };
    let imported = to_apischema(secured(json!([]), None), &options).unwrap();
    let r = &imported.api_schema;
    assert_eq!(r["metadata"], json!({"name": "pets", "namespace": "shop"}));
    assert_eq!(r["spec"]["hosts"], json!(["a.test", "b.test"]));
    assert_eq!(r["spec"]["basePath"], "/api");
    assert_eq!(r["spec"]["strict"], true);
    assert_eq!(
        r["spec"]["policies"]["defaults"]["validation"],
        json!({"mode": "report"})
    );
    let config = compile_imported(&imported).unwrap();
    assert_eq!(config.apis[0].name, "shop/pets");
    assert_eq!(config.apis[0].base_path, "/api");
}

#[test]
fn defaults_come_from_the_document() {
    let imported = import_default(secured(json!([]), None));
    assert_eq!(imported.api_schema["metadata"]["name"], "s");
    assert_eq!(imported.api_schema["spec"]["hosts"], json!(["api.test"]));
    let mut doc = secured(json!([]), None);
    doc.as_object_mut().unwrap().remove("servers");
    let imported = import_default(doc);
    assert_eq!(imported.api_schema["spec"]["hosts"], json!(["*"]));
    assert!(imported.warnings.iter().any(|w| w.code == "hosts"));
}

#[test]
fn large_documents_go_to_a_config_map() {
    let options = ImportOptions {
        configmap_threshold: 100,
        ..ImportOptions::default()
    };
    let imported = to_apischema(secured(json!([]), None), &options).unwrap();
    let cm = imported.config_map.as_ref().unwrap();
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["name"], "s-openapi");
    let held: Value = serde_json::from_str(cm["data"]["openapi.json"].as_str().unwrap()).unwrap();
    assert_eq!(held, imported.openapi);
    assert_eq!(
        imported.api_schema["spec"]["openapiRef"],
        json!({"configMap": "s-openapi", "key": "openapi.json"})
    );
    assert!(imported.api_schema["spec"].get("openapi").is_none());
    let yaml = imported.to_yaml().unwrap();
    let kinds: Vec<String> = serde_yaml_ng::Deserializer::from_str(&yaml)
        .map(|d| {
            let v: Value = serde::Deserialize::deserialize(d).unwrap();
            v["kind"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(kinds, ["IdentityProvider", "ConfigMap", "ApiSchema"]);
}

#[test]
fn very_large_documents_are_gzipped() {
    use base64::Engine as _;
    use std::io::Read as _;
    let mut doc = secured(json!([]), None);
    let mut paths = Map::new();
    for i in 0..6000 {
        paths.insert(
            format!("/resource{i}/{{id}}"),
            json!({"get": {"operationId": format!("get{i}"), "description": "x".repeat(100),
                           "responses": {"200": {"description": "ok"}}}}),
        );
    }
    doc["paths"] = Value::Object(paths);
    let imported = import_default(doc);
    let cm = imported.config_map.as_ref().unwrap();
    assert_eq!(
        imported.api_schema["spec"]["openapiRef"]["key"],
        "openapi.json.gz"
    );
    let gz = base64::engine::general_purpose::STANDARD
        .decode(cm["binaryData"]["openapi.json.gz"].as_str().unwrap())
        .unwrap();
    assert!(gz.len() < CONFIGMAP_LIMIT);
    let mut json = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut json)
        .unwrap();
    assert!(json.len() > GZIP_ABOVE);
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap(),
        imported.openapi
    );
    assert_eq!(imported.operations, 6000);
}

#[test]
fn duplicate_operation_ids_are_renamed_with_a_warning() {
    let doc = json!({"openapi": "3.0.3", "info": {"title": "d", "version": "1"}, "paths": {
        "/a": {"get": {"operationId": "x"}}, "/b": {"get": {"operationId": "x"}},
        "/c": {"get": {"operationId": "x_2"}}
    }});
    let imported = import_default(doc);
    assert_eq!(imported.openapi["paths"]["/b"]["get"]["operationId"], "x_3");
    assert!(imported
        .warnings
        .iter()
        .any(|w| w.code == "duplicate-operation-id" && w.pointer == "/paths/~1b/get/operationId"));
    assert_eq!(
        compile_imported(&imported).unwrap().apis[0]
            .operations
            .len(),
        3
    );
}

#[test]
fn local_path_item_refs_are_inlined_and_cycles_refused() {
    let doc = json!({"openapi": "3.1.0", "info": {"title": "p", "version": "1"},
        "components": {"pathItems": {"Pets": {"get": {"operationId": "list"}}}},
        "paths": {"/pets": {"$ref": "#/components/pathItems/Pets", "summary": "kept"}}});
    let imported = import_default(doc);
    assert_eq!(
        imported.openapi["paths"]["/pets"]["get"]["operationId"],
        "list"
    );
    assert_eq!(imported.openapi["paths"]["/pets"]["summary"], "kept");
    assert_eq!(
        compile_imported(&imported).unwrap().apis[0]
            .operations
            .len(),
        1
    );
    let doc = json!({"openapi": "3.1.0", "info": {"title": "p", "version": "1"},
        "components": {"pathItems": {"A": {"$ref": "#/components/pathItems/B"}, "B": {"$ref": "#/components/pathItems/A"}}},
        "paths": {"/pets": {"$ref": "#/components/pathItems/A"}}});
    let e = to_apischema(doc, &ImportOptions::default()).unwrap_err();
    assert!(e.0[0].message.contains("cycle"), "{e}");
    assert_eq!(e.0[0].pointer, "/paths/~1pets/$ref");
}

#[test]
fn bad_versions_are_refused_with_pointers() {
    let e = to_apischema(json!({"swagger": "1.2"}), &ImportOptions::default()).unwrap_err();
    assert_eq!(e.0[0].pointer, "/swagger");
    let e = to_apischema(json!({"openapi": "4.0.0"}), &ImportOptions::default()).unwrap_err();
    assert_eq!(e.0[0].pointer, "/openapi");
    let e = to_apischema(json!({"info": {}}), &ImportOptions::default()).unwrap_err();
    assert!(e.0[0].message.contains("openapi"), "{e}");
}

#[test]
fn scheme_names_become_kubernetes_names() {
    assert_eq!(security::k8s_name("Petstore_Auth"), "petstore-auth");
    assert_eq!(security::k8s_name("--a..b--"), "a-b");
    assert_eq!(security::k8s_name("!!"), "provider");
}

#[test]
fn hosts_come_from_absolute_server_urls() {
    let doc = json!({"servers": [
        {"url": "https://API.example.com:8443/v1"},
        {"url": "http://api.example.com/v2"},
        {"url": "https://{region}.example.com", "variables": {"region": {"default": "eu"}}},
        {"url": "https://{tenant}.example.com", "variables": {}},
        {"url": "https://bad_host.example.com"},
        {"url": "/relative"},
        {"url": "//cdn.example.com/x"}
    ]});
    assert_eq!(
        server_hosts(&doc),
        ["api.example.com", "eu.example.com", "cdn.example.com"]
    );
}

#[test]
fn blank_operation_ids_are_dropped_with_a_warning() {
    let doc = json!({"openapi": "3.0.3", "info": {"title": "b", "version": "1"}, "paths": {
        "/a": {"get": {"operationId": ""}, "put": {"operationId": 7}}
    }});
    let imported = import_default(doc);
    assert!(imported.openapi["paths"]["/a"]["get"]
        .get("operationId")
        .is_none());
    assert_eq!(
        imported
            .warnings
            .iter()
            .filter(|w| w.pointer.ends_with("/operationId"))
            .count(),
        2
    );
    let ids: Vec<String> = compile_imported(&imported).unwrap().apis[0]
        .operations
        .iter()
        .map(|o| o.operation_id.clone())
        .collect();
    assert_eq!(ids, ["get_a", "put_a"]);
}
