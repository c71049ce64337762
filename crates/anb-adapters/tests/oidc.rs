//! The OpenID Connect adapter against a real OpenID provider (oidc-provider on Node, started
//! by each check: `ANB_TEST_OIDC_PROVIDER`, see `anb_adapters::testkit::oidc_provider`): the
//! `IdentityProvider` conformance suite.

use std::sync::Arc;

use anb_adapters::oidc::{OpenIdConfig, OpenIdProvider};
use anb_domain::ports::IdentityProvider;

fn open_id_provider(config: OpenIdConfig) -> Arc<dyn IdentityProvider> {
    Arc::new(OpenIdProvider::new(config).expect("a valid configuration"))
}

anb_adapters::identity_conformance!(open_id_provider);
