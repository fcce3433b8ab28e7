//! Flask: `@app.route(rule, methods=[...])`, `@bp.get(rule)`, `add_url_rule`, blueprints
//! with `url_prefix` and `register_blueprint` (nested too), converters typed
//! (`<int:id>` → integer). Query, header and cookie parameters come from literal lookups on
//! `request.args` / `request.headers` / `request.cookies` in the view's body; a JSON body
//! from `request.get_json()` / `request.json` (its shape is not inferred). Responses are not
//! inferred.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::ast::{Call, Expr, FuncDef, RequestUse};
use super::{Graph, Key, Kind, Project, Router};
use crate::text::cleandoc;
use crate::{Found, Framework, Gap, Loc, Route};

const MAX_DEPTH: usize = 32;

pub fn collect(
    project: &Project,
    g: &Graph,
    root: &Router,
    found: &mut Found,
    reached: &mut BTreeSet<Key>,
) {
    let before = found.routes.len();
    let mut stack = Vec::new();
    walk(project, g, &root.key, "", None, found, reached, &mut stack);
    let n = found.routes.len() - before;
    if n > 0 && root.kind == Kind::Flask {
        found.gaps.push(Gap::at(
            &project.loc(&root.key.0, root.line),
            format!("Flask responses are not inferred ({n} operations documented with a `default` response)"),
        ));
    }
}

/// Flask's prefix joining (`Blueprint.register` / `BlueprintSetupState.add_url_rule`).
fn join(prefix: &str, rule: &str) -> String {
    if prefix.is_empty() {
        return rule.to_string();
    }
    if rule.is_empty() {
        return prefix.to_string();
    }
    format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        rule.trim_start_matches('/')
    )
}

#[allow(clippy::too_many_arguments)]
fn walk(
    project: &Project,
    g: &Graph,
    key: &Key,
    prefix: &str,
    tag: Option<&str>,
    found: &mut Found,
    reached: &mut BTreeSet<Key>,
    stack: &mut Vec<Key>,
) {
    let Some(router) = g.routers.get(key) else {
        return;
    };
    if stack.contains(key) || stack.len() > MAX_DEPTH {
        return;
    }
    reached.insert(key.clone());
    stack.push(key.clone());
    let own_tag = if router.kind == Kind::Blueprint {
        router.call.arg("name", 0).and_then(Expr::as_str).or(tag)
    } else {
        tag
    };
    for d in g.decls.iter().filter(|d| &d.router == key) {
        let methods = match d.verb.as_str() {
            "route" => d.call.kw("methods").map(Expr::str_list),
            v => Some(Some(vec![v.to_string()])),
        };
        emit(
            project, &d.module, &d.func, &d.call, methods, prefix, own_tag, found,
        );
    }
    for (_, module, call, line) in g.url_rules.iter().filter(|(k, ..)| k == key) {
        let loc = project.loc(module, *line);
        match call.arg("view_func", 2) {
            Some(Expr::Name(n)) => match project.function(module, n) {
                Some((m, f)) => {
                    let mut f = f.clone();
                    f.first_line = *line;
                    let methods = call.kw("methods").map(Expr::str_list);
                    emit(project, m, &f, call, methods, prefix, own_tag, found);
                }
                None => found.gaps.push(Gap::at(&loc, format!("view `{n}` not found; rule left out"))),
            },
            _ => found.gaps.push(Gap::at(
                &loc,
                "class-based view (MethodView) or computed view_func: rule left out; describe it with a `gatehouse:` comment on a function route",
            )),
        }
    }
    for inc in g.includes.iter().filter(|i| &i.parent == key) {
        let Some(child) = g.routers.get(&inc.child) else {
            continue;
        };
        let url_prefix = match inc
            .call
            .kw("url_prefix")
            .or_else(|| child.call.kw("url_prefix"))
        {
            Some(Expr::Str(p)) => p.clone(),
            Some(Expr::None) | None => String::new(),
            Some(_) => {
                found.gaps.push(Gap::at(
                    &project.loc(&inc.module, inc.line),
                    "url_prefix is not a literal; the blueprint's routes are left out",
                ));
                continue;
            }
        };
        let child_prefix = join(prefix, &url_prefix);
        walk(
            project,
            g,
            &inc.child,
            &child_prefix,
            own_tag,
            found,
            reached,
            stack,
        );
    }
    stack.pop();
}

/// `<int:id>` → (`{id}`, schema) for each converter of a rule.
fn convert_rule(rule: &str) -> (String, Vec<(String, Value)>) {
    let mut path = String::new();
    let mut params = Vec::new();
    let mut rest = rule;
    while let Some(start) = rest.find('<') {
        path.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + 1..).unwrap_or("");
        let Some(end) = after.find('>') else {
            path.push_str(rest.get(start..).unwrap_or(""));
            rest = "";
            break;
        };
        let inner = after.get(..end).unwrap_or("");
        let (conv, name) = inner.rsplit_once(':').unwrap_or(("string", inner));
        let (conv_name, args) = match conv.split_once('(') {
            Some((n, a)) => (n.trim(), a.trim_end_matches(')')),
            None => (conv.trim(), ""),
        };
        let schema = match conv_name {
            "int" => json!({"type": "integer"}),
            "float" => json!({"type": "number"}),
            "uuid" => json!({"type": "string", "format": "uuid"}),
            "any" => {
                let values: Vec<Value> = args
                    .split(',')
                    .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
                    .filter(|v| !v.is_empty())
                    .map(Value::String)
                    .collect();
                json!({"type": "string", "enum": values})
            }
            // `path` also matches `/`; OpenAPI has no way to say so.
            _ => json!({"type": "string"}),
        };
        path.push('{');
        path.push_str(name.trim());
        path.push('}');
        params.push((name.trim().to_string(), schema));
        rest = after.get(end + 1..).unwrap_or("");
    }
    path.push_str(rest);
    (path, params)
}

#[allow(clippy::too_many_arguments)]
fn emit(
    project: &Project,
    module: &str,
    f: &FuncDef,
    call: &Call,
    methods: Option<Option<Vec<String>>>,
    prefix: &str,
    tag: Option<&str>,
    found: &mut Found,
) {
    let loc = project.loc(module, f.first_line);
    let Some(rule) = call.arg("rule", 0).and_then(Expr::as_str) else {
        found.gaps.push(Gap::at(
            &loc,
            format!("rule of `{}` is not a literal; left out", f.name),
        ));
        return;
    };
    let full = join(prefix, rule);
    let (path, path_params) = convert_rule(&full);
    let methods: Vec<String> = match methods {
        None => vec!["get".into()],
        Some(Some(m)) => m.iter().map(|s| s.to_ascii_lowercase()).collect(),
        Some(None) => {
            found
                .gaps
                .push(Gap::at(&loc, "methods are not a literal list; left out").on("*", &path));
            return;
        }
    };
    let endpoint = call
        .kw("endpoint")
        .and_then(Expr::as_str)
        .unwrap_or(&f.name)
        .to_string();
    for method in &methods {
        let mut op = Map::new();
        let id = if methods.len() > 1 {
            format!("{endpoint}_{method}")
        } else {
            endpoint.clone()
        };
        op.insert("operationId".into(), json!(id));
        if let Some(t) = tag {
            op.insert("tags".into(), json!([t]));
        }
        if let Some(doc) = f.doc.as_deref().map(cleandoc).filter(|d| !d.is_empty()) {
            let (first, rest) = doc.split_once("\n\n").unwrap_or((&doc, ""));
            op.insert("summary".into(), json!(first.replace('\n', " ")));
            if !rest.trim().is_empty() {
                op.insert("description".into(), json!(rest.trim()));
            }
        }
        let mut params: Vec<Value> = path_params
            .iter()
            .map(|(n, s)| json!({"name": n, "in": "path", "required": true, "schema": s}))
            .collect();
        let mut json_body = false;
        for u in &f.request_uses {
            match u {
                RequestUse::Param {
                    location,
                    name,
                    required,
                    ty,
                    list,
                    ..
                } => {
                    let scalar = match ty.as_deref() {
                        Some("int") => json!({"type": "integer"}),
                        Some("float") => json!({"type": "number"}),
                        _ => json!({"type": "string"}),
                    };
                    let schema = if *list {
                        json!({"type": "array", "items": scalar})
                    } else {
                        scalar
                    };
                    let exists = params
                        .iter_mut()
                        .find(|p| p["name"] == json!(name) && p["in"] == json!(location));
                    match exists {
                        Some(p) => {
                            if *required {
                                p["required"] = json!(true);
                            }
                        }
                        None => params.push(json!({"name": name, "in": location, "required": required, "schema": schema})),
                    }
                }
                RequestUse::Json { .. } => json_body = true,
                RequestUse::Form { line } => found.gaps.push(
                    Gap::at(
                        &project.loc(module, *line),
                        "form data read; the form body is not described",
                    )
                    .on(method, &path),
                ),
                RequestUse::Dynamic { what, line } => found.gaps.push(
                    Gap::at(
                        &project.loc(module, *line),
                        format!(
                            "`{what}` looked up with a computed name; that parameter is left out"
                        ),
                    )
                    .on(method, &path),
                ),
            }
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if json_body && !matches!(method.as_str(), "get" | "head" | "delete" | "options") {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": {}}}}),
            );
            found.gaps.push(
                Gap::at(
                    &loc,
                    "JSON request body read; its shape is not inferred (schema left open)",
                )
                .on(method, &path),
            );
        }
        found.routes.push(Route {
            framework: Framework::Flask,
            method: method.clone(),
            path: path.clone(),
            operation: op,
            loc: Loc { ..loc.clone() },
            comment_line: f.first_line,
            comment_prefix: "#",
            alt_comment_line: None,
            alt_file: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_prefixes() {
        assert_eq!(join("/api/", "/users"), "/api/users");
        assert_eq!(join("/api", ""), "/api");
        let (p, params) = convert_rule("/u/<int:id>/f/<path:rest>/<any(a, 'b'):k>/<x>");
        assert_eq!(p, "/u/{id}/f/{rest}/{k}/{x}");
        assert_eq!(params[0].1, json!({"type": "integer"}));
        assert_eq!(params[2].1, json!({"type": "string", "enum": ["a", "b"]}));
        assert_eq!(params[3].1, json!({"type": "string"}));
    }
}
