//! Paging: `page`/`page_size` in, `X-Total-Count` and `Link` out.

use anb_domain::{PageRequest, ValidationError};

/// The page number when none is asked for (1).
pub fn first_page() -> i64 {
    PageRequest::DEFAULT_PAGE.into()
}

/// The page size when none is asked for (20).
pub fn default_page_size() -> i64 {
    PageRequest::DEFAULT_SIZE.into()
}

/// The page asked for. The operations' parameters already hold `page` to
/// 1..=[`u32::MAX`] and `page_size` to 1..=100 (400 naming the parameter otherwise, as their
/// schema says); the domain checks the same again.
///
/// # Errors
/// When `page` < 1 or `page_size` is outside 1..=100.
pub fn request(page: i64, page_size: i64) -> Result<PageRequest, ValidationError> {
    PageRequest::new(Some(page), Some(page_size))
}

/// The RFC 8288 `Link` header for the page `request` of `path` out of `total` items (with its
/// other query parameters in `query`, encoded here): first, prev, next, last.
pub fn links(path: &str, query: &[(&str, String)], request: PageRequest, total: u64) -> String {
    let size = request.page_size();
    let current = request.page();
    let last = total.div_ceil(u64::from(size)).max(1);
    let url = |n: u64| {
        let mut params: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        params.push(format!("page={n}"));
        params.push(format!("page_size={size}"));
        format!("<{path}?{}>", params.join("&"))
    };
    let mut links = vec![format!("{}; rel=\"first\"", url(1))];
    if current > 1 {
        links.push(format!("{}; rel=\"prev\"", url(u64::from(current) - 1)));
    }
    if u64::from(current) < last {
        links.push(format!("{}; rel=\"next\"", url(u64::from(current) + 1)));
    }
    links.push(format!("{}; rel=\"last\"", url(last)));
    links.join(", ")
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_header_names_first_prev_next_and_last_and_keeps_the_filters() {
        let request = PageRequest::new(Some(2), Some(20)).unwrap();
        let link = links(
            "/api/public/rankings",
            &[("city", "Bogotá".into())],
            request,
            45,
        );
        assert_eq!(
            link,
            "</api/public/rankings?city=Bogot%C3%A1&page=1&page_size=20>; rel=\"first\", \
             </api/public/rankings?city=Bogot%C3%A1&page=1&page_size=20>; rel=\"prev\", \
             </api/public/rankings?city=Bogot%C3%A1&page=3&page_size=20>; rel=\"next\", \
             </api/public/rankings?city=Bogot%C3%A1&page=3&page_size=20>; rel=\"last\""
        );
    }
}
