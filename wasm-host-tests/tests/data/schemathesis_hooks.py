"""Schemathesis hooks for validation_schemathesis.rs: every refusal is problem+json."""

import json

import schemathesis

OPENAPI_METHODS = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}


def _header(response, name):
    value = response.headers.get(name) or response.headers.get(name.title()) or ""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return value


@schemathesis.check
def refusals_are_problem_json(ctx, response, case):
    """A 400/413/415 answered by Gatehouse is application/problem+json with its status."""
    if response.status_code not in (400, 413, 415):
        return None
    if case.method.upper() not in OPENAPI_METHODS:
        # Envoy's HTTP/1 codec answers methods it does not know (QUERY) with an empty 400
        # before any filter runs.
        return None
    content_type = _header(response, "content-type")
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(
            f"{response.status_code} without application/problem+json: {content_type!r}"
        )
    body = json.loads(response.content)
    if body.get("status") != response.status_code or not body.get("type"):
        raise AssertionError(f"not a problem document: {body!r}")
    if response.status_code == 400 and body["type"].endswith("/validation"):
        if not body.get("errors"):
            raise AssertionError(f"validation problem without errors: {body!r}")
    return None
