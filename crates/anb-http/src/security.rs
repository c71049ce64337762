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
