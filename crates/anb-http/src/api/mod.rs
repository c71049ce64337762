//! The contract's operations, one `OpenApi` impl per tag.
//!
//! Each tag's operations are an `#[OpenApi]` impl (`AuthOperations`, …) wrapped by the public
//! API type (`AuthApi`, …): the same document, routed by [`add_routes_answering_405`], so on
//! every path each standard method the path does not serve answers 405 with an `Allow` header
//! listing the ones it does (poem's own 405 carries none).

pub mod account;
pub mod auth;
pub mod models;
pub mod oidc;
pub mod ops;
pub mod ops_models;
pub mod playback;
pub mod players;
pub mod public;
pub mod public_models;
pub mod refusals;
pub mod rendition_models;
pub mod renditions;
pub mod sharing;
pub mod sharing_models;
pub mod strict_text;
pub mod videos;
pub mod webhook_models;
pub mod webhooks;

use std::collections::HashMap;

use poem::endpoint::{make_sync, BoxEndpoint};
use poem::http::Method;
use poem::EndpointExt as _;
use poem_openapi::{OpenApi, Tags};

/// The groups of operations in the spec.
#[derive(Tags)]
pub enum ApiTags {
    /// Sign up, log in, profile.
    Auth,
    /// A player's own videos: upload, list, detail, publish, delete, downloads.
    Videos,
    /// The public gallery, votes, rankings, streaming.
    Public,
    /// Files behind signed playback links (no bearer header).
    Playback,
    /// Private shares, share links, what is shared with the caller, the player directory.
    Sharing,
    /// Webhooks (events about the caller's videos, signed) and a video's audit trail.
    Webhooks,
    /// Health, readiness, metrics.
    Ops,
}

/// poem-openapi's routing table: path → method → endpoint.
pub type RouteTable = HashMap<String, HashMap<Method, BoxEndpoint<'static>>>;

/// The methods a path is asked for, in the order `Allow` lists them: RFC 9110's, `PATCH`, and
/// `QUERY` (OpenAPI 3.2). `HEAD` is served wherever `GET` is (poem answers it from the `GET`
/// endpoint). Any other method is routed as `TRACE`
/// ([`route_extension_methods_as_trace`]).
pub(crate) static STANDARD_METHODS: std::sync::LazyLock<[Method; 10]> =
    std::sync::LazyLock::new(|| {
        [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
            Method::TRACE,
            Method::CONNECT,
            Method::from_bytes(b"QUERY").expect("a valid method name"),
        ]
    });

/// Adds the routes of `operations` to `table`, and on each of their paths, for every standard
/// method the path does not serve, an endpoint answering 405 `method_not_allowed` with `Allow`.
/// (The tags' paths do not overlap, so each path's methods are all in one `operations`.)
pub fn add_routes_answering_405<T: OpenApi>(operations: T, table: &mut RouteTable) {
    let mut own = RouteTable::new();
    operations.add_routes(&mut own);
    let methods = &*STANDARD_METHODS;
    for (path, mut endpoints) in own {
        let served = |method: &Method| {
            endpoints.contains_key(method)
                || (*method == Method::HEAD && endpoints.contains_key(&Method::GET))
        };
        let allowed: Vec<&str> = methods
            .iter()
            .filter(|m| served(m))
            .map(Method::as_str)
            .collect();
        let allow = allowed.join(", ");
        let refused: Vec<Method> = methods.iter().filter(|m| !served(m)).cloned().collect();
        for method in refused {
            let allow = allow.clone();
            let endpoint = make_sync(move |_| crate::error::method_not_allowed(&allow));
            endpoints.insert(method, endpoint.map_to_response().boxed());
        }
        table.entry(path).or_default().extend(endpoints);
    }
}

/// Routes a request whose method is none of [`STANDARD_METHODS`] (an extension method:
/// `PROPFIND`, `LOCK`, …) as `TRACE`, which no path serves: it gets the path's 405
/// `method_not_allowed` with `Allow`, or 404 off the API's paths, as any method the path does
/// not serve does.
///
/// # Errors
/// None: the request always goes on.
pub(crate) async fn route_extension_methods_as_trace(
    mut request: poem::Request,
) -> poem::Result<poem::Request> {
    if !STANDARD_METHODS.contains(request.method()) {
        request.set_method(Method::TRACE);
    }
    Ok(request)
}

/// Declares the public API type of a tag: the `#[OpenApi]` operations it names (their
/// document, unchanged), routed with [`add_routes_answering_405`].
macro_rules! answering_405 {
    ($(#[$doc:meta])* pub struct $api:ident($operations:ident);) => {
        $(#[$doc])*
        pub struct $api;

        impl poem_openapi::OpenApi for $api {
            fn meta() -> Vec<poem_openapi::registry::MetaApi> {
                <$operations as poem_openapi::OpenApi>::meta()
            }

            fn register(registry: &mut poem_openapi::registry::Registry) {
                <$operations as poem_openapi::OpenApi>::register(registry)
            }

            fn add_routes(self, table: &mut $crate::api::RouteTable) {
                $crate::api::add_routes_answering_405($operations, table)
            }
        }
    };
}
pub(crate) use answering_405;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_lists_the_methods_it_serves_and_refuses_the_others() {
        let mut table = RouteTable::new();
        add_routes_answering_405(videos::VideosOperations, &mut table);
        // poem-openapi names path parameters by position in its table.
        let one_video = &table["/api/videos/:param0"];
        for method in STANDARD_METHODS.iter() {
            if *method != Method::HEAD {
                assert!(one_video.contains_key(method), "{method}");
            }
        }
        assert!(
            !one_video.contains_key(&Method::HEAD),
            "HEAD stays poem's (answered from GET)"
        );
        let upload = &table["/api/videos/upload"];
        assert!(STANDARD_METHODS.iter().all(|m| upload.contains_key(m)));
    }
}
