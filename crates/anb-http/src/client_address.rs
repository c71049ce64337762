//! Who the client is: the peer's address, or, when the peer is a trusted proxy, the address
//! the proxies forwarded (`Forwarded`, else `X-Forwarded-For`).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;
use poem::http::HeaderMap;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::state::AppState;

/// The client's address, as the edge decided it (in every request's data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The key abuse limits count under: the address, with IPv6 addresses grouped by their
    /// /64 (one subscriber's network), since a host picks freely within it.
    pub fn limit_key(self) -> IpAddr {
        match self.0 {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let prefix = u128::from(v6) & (u128::MAX << 64);
                    IpAddr::V6(Ipv6Addr::from(prefix))
                }
            },
        }
    }
}

/// The client of a connection from `peer` carrying `headers`: the peer itself unless it is in
/// `trusted`; then, walking the forwarded chain from the nearest hop back, the first address
/// that is not a trusted proxy. A malformed or hidden hop stops the walk at the last address
/// known good, so a client cannot pose as someone else by writing the header itself.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = *ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The forwarded chain, farthest first: `Forwarded`'s `for=` parameters when that header is
/// present, else `X-Forwarded-For`'s entries. `None` stands for a hop that is not an address
/// (`unknown`, an obfuscated name, garbage).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().map(str::to_owned).unwrap_or_default())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    key.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_node(value.trim().trim_matches('"')))
                })?
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .flat_map(|value| value.split(','))
        .map(|entry| parse_node(entry.trim()))
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    raw.parse::<IpAddr>()
        .ok()
        .or_else(|| raw.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            raw.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse().ok())
        })
}

/// The middleware: decides the client's address once per request ([`ClientAddress`] in the
/// request's data) and records it in the request's span.
pub async fn identify<E: Endpoint>(next: E, mut request: Request) -> poem::Result<Response> {
    let peer = request
        .remote_addr()
        .as_socket_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), SocketAddr::ip);
    let client = match request.data::<AppState>() {
        Some(state) => client_address(peer, request.headers(), &state.config.edge.trusted_proxies),
        None => peer,
    };
    tracing::Span::current().record("client", tracing::field::display(client));
    request.set_data(ClientAddress(client));
    next.call(request).await.map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    fn nets(raw: &[&str]) -> Vec<IpNet> {
        raw.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(client_address(ip("9.9.9.9"), &h, &[]), ip("9.9.9.9"));
        assert_eq!(
            client_address(ip("9.9.9.9"), &h, &nets(&["10.0.0.0/8"])),
            ip("9.9.9.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            ip("203.0.113.7")
        );
        let split = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.7"),
        ]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &split, &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_takes_every_spelling() {
        let trusted = nets(&["10.0.0.0/8", "::1/128"]);
        let h = headers(&[
            (
                "forwarded",
                "for=\"[2001:db8:cafe::17]:4711\";proto=https, For=10.0.0.3",
            ),
            ("x-forwarded-for", "1.1.1.1"),
        ]);
        assert_eq!(
            client_address(ip("::1"), &h, &trusted),
            ip("2001:db8:cafe::17")
        );
        let v4 = headers(&[("forwarded", "for=192.0.2.60:8080;by=10.0.0.1")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &v4, &trusted),
            ip("192.0.2.60")
        );
    }

    #[test]
    fn a_hidden_or_garbled_hop_stops_at_the_last_known_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "1.2.3.4, garbage, 10.0.0.9")]);
        assert_eq!(client_address(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.9"));
        let none = headers(&[]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &none, &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a = ClientAddress(ip("2001:db8:1:2:aaaa::1")).limit_key();
        let b = ClientAddress(ip("2001:db8:1:2:bbbb::9")).limit_key();
        let other = ClientAddress(ip("2001:db8:1:3::1")).limit_key();
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(
            ClientAddress(ip("::ffff:1.2.3.4")).limit_key(),
            ip("1.2.3.4")
        );
    }
}
