//! The validation benchmark's API: an order with nested objects, arrays, formats, patterns
//! and a discriminated `oneOf` (the realistic schema of `filter/tests/schema_bench.rs`),
//! compiled by the controller like any ApiSchema, and the bodies sent to it.

use gatehouse_filter::config::FilterConfig;
use serde_json::{json, Value};

/// The ApiSchema, with every operation's validation `mode` (`enforce`, `report`, `off`).
pub fn api_yaml(mode: &str) -> String {
    format!(
        r##"apiVersion: gatehouse.dev/v1alpha1
kind: ApiSchema
metadata: {{ name: shop, namespace: bench }}
spec:
  hosts: ["*"]
  strict: true
  policies:
    defaults:
      validation: {{ mode: {mode} }}
  openapi:
    openapi: 3.0.3
    info: {{ title: shop, version: "1" }}
    paths:
      /orders:
        post:
          operationId: createOrder
          requestBody:
            required: true
            content:
              application/json:
                schema: {{ $ref: "#/components/schemas/Order" }}
      /orders/batch:
        post:
          operationId: createOrders
          requestBody:
            required: true
            content:
              application/json:
                schema: {{ type: array, maxItems: 1000, items: {{ $ref: "#/components/schemas/Order" }} }}
    components:
      schemas:
        Order:
          type: object
          required: [customer, items, createdAt, payment]
          additionalProperties: false
          properties:
            status: {{ type: string, enum: [pending, paid, shipped, cancelled] }}
            createdAt: {{ type: string, format: date-time }}
            customer: {{ $ref: "#/components/schemas/Customer" }}
            items: {{ type: array, minItems: 1, maxItems: 100, items: {{ $ref: "#/components/schemas/LineItem" }} }}
            shipping: {{ $ref: "#/components/schemas/Address" }}
            payment: {{ $ref: "#/components/schemas/Payment" }}
            tags: {{ type: array, maxItems: 10, uniqueItems: true, items: {{ type: string, maxLength: 32 }} }}
            notes: {{ type: string, maxLength: 500, nullable: true }}
            metadata: {{ type: object, maxProperties: 20, additionalProperties: {{ type: string, maxLength: 64 }} }}
        Customer:
          type: object
          required: [id, email, name]
          properties:
            id: {{ type: string, format: uuid }}
            email: {{ type: string, format: email }}
            name: {{ type: string, minLength: 1, maxLength: 100 }}
            phone: {{ type: string, pattern: '^\+[1-9][0-9]{{6,14}}$' }}
            website: {{ type: string, format: uri }}
        LineItem:
          type: object
          required: [sku, quantity, unitPrice]
          additionalProperties: false
          properties:
            sku: {{ type: string, pattern: '^[A-Z]{{3}}-[0-9]{{4,8}}$' }}
            name: {{ type: string, maxLength: 200 }}
            quantity: {{ type: integer, format: int32, minimum: 1, maximum: 1000 }}
            unitPrice: {{ type: number, minimum: 0, multipleOf: 0.01 }}
            currency: {{ type: string, enum: [EUR, USD, GBP] }}
            discount: {{ type: number, minimum: 0, maximum: 1 }}
        Address:
          type: object
          required: [line1, city, country]
          properties:
            line1: {{ type: string, maxLength: 100 }}
            city: {{ type: string, maxLength: 60 }}
            postalCode: {{ type: string, pattern: '^[A-Za-z0-9 -]{{3,10}}$' }}
            country: {{ type: string, pattern: '^[A-Z]{{2}}$' }}
        Payment:
          oneOf:
            - $ref: "#/components/schemas/Card"
            - $ref: "#/components/schemas/PayPal"
            - $ref: "#/components/schemas/BankTransfer"
          discriminator:
            propertyName: method
            mapping:
              card: "#/components/schemas/Card"
              paypal: "#/components/schemas/PayPal"
              bank: "#/components/schemas/BankTransfer"
        Card:
          type: object
          required: [method, last4, expiry]
          properties:
            method: {{ type: string, enum: [card] }}
            last4: {{ type: string, pattern: '^[0-9]{{4}}$' }}
            expiry: {{ type: string, pattern: '^(0[1-9]|1[0-2])/[0-9]{{2}}$' }}
            holder: {{ type: string, maxLength: 100 }}
        PayPal:
          type: object
          required: [method, email]
          properties:
            method: {{ type: string, enum: [paypal] }}
            email: {{ type: string, format: email }}
        BankTransfer:
          type: object
          required: [method, iban]
          properties:
            method: {{ type: string, enum: [bank] }}
            iban: {{ type: string, pattern: '^[A-Z]{{2}}[0-9]{{2}}[A-Z0-9]{{11,30}}$' }}
"##
    )
}

/// [`api_yaml`] compiled by the controller.
pub fn config(mode: &str) -> anyhow::Result<FilterConfig> {
    let yaml = api_yaml(mode);
    let loaded =
        gatehouse_controller::load::parse_documents(std::path::Path::new("shop.yaml"), &yaml);
    anyhow::ensure!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    gatehouse_controller::compile(&loaded.resources).map_err(|errors| {
        anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// One valid order, about 1 KB of JSON.
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
        "shipping": {"line1": "Hauptstrasse 1", "city": "Berlin", "postalCode": "10115", "country": "DE"},
        "payment": {"method": "card", "last4": "4242", "expiry": "09/27", "holder": "Jane Doe"},
        "tags": ["gift", "express", "priority"],
        "notes": null,
        "metadata": {"channel": "web", "campaign": "winter-sale"}
    })
}

/// Valid orders adding up to about `bytes` of JSON.
pub fn orders(bytes: usize) -> String {
    let mut list = Vec::new();
    let mut size = 2;
    while size < bytes {
        let o = order(list.len());
        size += o.to_string().len() + 1;
        list.push(o);
    }
    Value::Array(list).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_api_compiles_and_its_bodies_are_the_advertised_sizes() {
        for mode in ["enforce", "off"] {
            config(mode).unwrap();
        }
        let one = order(0).to_string().len();
        assert!((800..1400).contains(&one), "{one}");
        let many = orders(64 * 1024).len();
        assert!((64 * 1024..70 * 1024).contains(&many), "{many}");
    }
}
