"""schemathesis hooks for tests/schemathesis.rs (loaded through the run's config file).

One check on top of schemathesis' own (`--checks all`): a request the OpenAPI document calls
valid is never refused as malformed. The contract answers some schema-valid requests with 400
for a rule of the game (`password_mismatch`, `email_taken`, `invalid_file`, `already_voted`,
`video_published`, ...), so the run lets those operations answer 400 to valid data; this check
keeps that allowance from hiding a document that is looser than the server: a 400
`validation_error` to a schema-valid request is a failure on every operation.
"""

import schemathesis
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case


@schemathesis.check
def schema_valid_requests_are_never_malformed(ctx, response, case):
    """A request the document calls valid is never answered 400 `validation_error`."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or is_unexpected_http_status_case(case):
        return None
    if response.status_code != 400:
        return None
    try:
        body = response.json()
    except Exception:
        return None
    if not isinstance(body, dict) or body.get("code") != "validation_error":
        return None
    detail = str(body.get("detail", ""))
    raise AssertionError(f"A schema-valid request was refused as malformed: {detail}")
