//! The bearer scheme: a JWT whose checker yields the calling player.

use anb_domain::UserId;
use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::SecurityScheme;

use crate::state::AppState;

/// The authenticated caller (`Authorization: Bearer <JWT>` from `POST /api/auth/login`).
/// Missing, invalid, tampered or expired tokens get 401 `unauthorized`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "caller_from_token")]
pub struct Caller(pub UserId);

async fn caller_from_token(request: &Request, bearer: Bearer) -> Option<UserId> {
    let state = request.data::<AppState>()?;
    state.showcase.authenticate(&bearer.token).ok()
}

/// An operator (`Authorization: Bearer <ANB_OPS_TOKEN>`). Without the setting, or with another
/// token, 401 `unauthorized`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "operator_from_token")]
pub struct Operator(pub ());

async fn operator_from_token(request: &Request, bearer: Bearer) -> Option<()> {
    use sha2::{Digest as _, Sha256};
    let state = request.data::<AppState>()?;
    let expected = state.config.ops_token.as_deref()?;
    // Digests compared, so the comparison takes as long whatever the token.
    (Sha256::digest(expected.as_bytes()) == Sha256::digest(bearer.token.as_bytes())).then_some(())
}
