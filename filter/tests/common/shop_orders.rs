//! A realistic OpenAPI 3.0 body schema and instances: nested objects, arrays, formats,
//! patterns and a discriminated `oneOf` (shared by `schema_bench.rs` and
//! `examples/body_bench.rs`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use gatehouse_filter::schema::{Compiler, Dialect, Direction, Options, Program};
use serde_json::{json, Value};

pub const DOC_URI: &str = "https://example.com/shop/openapi.json";

pub fn document() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "shop", "version": "1"},
        "paths": {},
        "components": {"schemas": {
            "Order": {
                "type": "object",
                "required": ["id", "customer", "items", "createdAt", "payment"],
                "additionalProperties": false,
                "properties": {
                    "id": {"type": "string", "format": "uuid", "readOnly": true},
                    "status": {"type": "string", "enum": ["pending", "paid", "shipped", "cancelled"]},
                    "createdAt": {"type": "string", "format": "date-time"},
                    "customer": {"$ref": "#/components/schemas/Customer"},
                    "items": {
                        "type": "array", "minItems": 1, "maxItems": 100,
                        "items": {"$ref": "#/components/schemas/LineItem"}
                    },
                    "shipping": {"$ref": "#/components/schemas/Address"},
                    "payment": {"$ref": "#/components/schemas/Payment"},
                    "tags": {
                        "type": "array", "maxItems": 10, "uniqueItems": true,
                        "items": {"type": "string", "maxLength": 32}
                    },
                    "notes": {"type": "string", "maxLength": 500, "nullable": true},
                    "metadata": {
                        "type": "object", "maxProperties": 20,
                        "additionalProperties": {"type": "string", "maxLength": 64}
                    }
                }
            },
            "Customer": {
                "type": "object",
                "required": ["id", "email", "name"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "email": {"type": "string", "format": "email"},
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "phone": {"type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$"},
                    "website": {"type": "string", "format": "uri"}
                }
            },
            "LineItem": {
                "type": "object",
                "required": ["sku", "quantity", "unitPrice"],
                "additionalProperties": false,
                "properties": {
                    "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4,8}$"},
                    "name": {"type": "string", "maxLength": 200},
                    "quantity": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 1000},
                    "unitPrice": {"type": "number", "minimum": 0, "multipleOf": 0.01},
                    "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
                    "discount": {"type": "number", "minimum": 0, "maximum": 1}
                }
            },
            "Address": {
                "type": "object",
                "required": ["line1", "city", "country"],
                "properties": {
                    "line1": {"type": "string", "maxLength": 100},
                    "line2": {"type": "string", "maxLength": 100},
                    "city": {"type": "string", "maxLength": 60},
                    "postalCode": {"type": "string", "pattern": "^[A-Za-z0-9 -]{3,10}$"},
                    "country": {"type": "string", "pattern": "^[A-Z]{2}$"}
                }
            },
            "Payment": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Card"},
                    {"$ref": "#/components/schemas/PayPal"},
                    {"$ref": "#/components/schemas/BankTransfer"}
                ],
                "discriminator": {
                    "propertyName": "method",
                    "mapping": {
                        "card": "#/components/schemas/Card",
                        "paypal": "#/components/schemas/PayPal",
                        "bank": "#/components/schemas/BankTransfer"
                    }
                }
            },
            "Card": {
                "type": "object",
                "required": ["method", "last4", "expiry"],
                "properties": {
                    "method": {"type": "string", "enum": ["card"]},
                    "last4": {"type": "string", "pattern": "^[0-9]{4}$"},
                    "expiry": {"type": "string", "pattern": "^(0[1-9]|1[0-2])/[0-9]{2}$"},
                    "holder": {"type": "string", "maxLength": 100}
                }
            },
            "PayPal": {
                "type": "object",
                "required": ["method", "email"],
                "properties": {
                    "method": {"type": "string", "enum": ["paypal"]},
                    "email": {"type": "string", "format": "email"}
                }
            },
            "BankTransfer": {
                "type": "object",
                "required": ["method", "iban"],
                "properties": {
                    "method": {"type": "string", "enum": ["bank"]},
                    "iban": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"},
                    "bic": {"type": "string", "pattern": "^[A-Z0-9]{8}([A-Z0-9]{3})?$"}
                }
            }
        }}
    })
}

/// The program with two roots: an `Order` response body and a list of orders.
pub fn program(doc: &Value) -> (Program, u32, u32) {
    let mut c = Compiler::new(Options::new(Dialect::OpenApi30));
    c.add_document(DOC_URI, doc);
    c.set_direction(Direction::Response);
    let order = c
        .compile_ref(&format!("{DOC_URI}#/components/schemas/Order"))
        .unwrap();
    let list_doc = Box::leak(Box::new(json!({
        "type": "array",
        "items": {"$ref": format!("{DOC_URI}#/components/schemas/Order")}
    })));
    let list = c
        .compile_value("https://example.com/shop/list.json", list_doc)
        .unwrap();
    (c.finish().unwrap(), order, list)
}

pub fn order(n: usize) -> Value {
    let items: Vec<Value> = (0..4)
        .map(|i| {
            json!({
                "sku": format!("ABC-{:05}", 1000 + i + n),
                "name": format!("Widget number {i} in a nice colour"),
                "quantity": i + 1,
                "unitPrice": 19.99,
                "currency": "EUR",
                "discount": 0.1
            })
        })
        .collect();
    json!({
        "id": "0b6c1a4e-8d7f-4b8a-9c2e-5f3d2a1b0c9d",
        "status": "paid",
        "createdAt": "2024-11-23T10:15:30.123Z",
        "customer": {
            "id": "f47ac10b-58cc-4372-a567-0e02b2c3d479",
            "email": "jane.doe@example.com",
            "name": "Jane Doe",
            "phone": "+4915112345678",
            "website": "https://jane.example.com/about"
        },
        "items": items,
        "shipping": {
            "line1": "Hauptstrasse 1",
            "city": "Berlin",
            "postalCode": "10115",
            "country": "DE"
        },
        "payment": {"method": "card", "last4": "4242", "expiry": "09/27", "holder": "Jane Doe"},
        "tags": ["gift", "express", "priority"],
        "notes": null,
        "metadata": {"channel": "web", "campaign": "winter-sale"}
    })
}

/// About 64 KB of orders.
pub fn orders() -> Value {
    let mut list = Vec::new();
    let mut size = 2;
    while size < 64 * 1024 {
        let o = order(list.len());
        size += serde_json::to_vec(&o).unwrap().len() + 1;
        list.push(o);
    }
    Value::Array(list)
}
