//! Reading the links the service mails.

use anb_adapters::testkit::conformance::mail::ReceivedMail;

/// The token of the first `/{route}?token=` link in `mail`, checking it is a long one.
pub fn mailed_token(mail: &ReceivedMail, route: &str) -> String {
    let prefix = format!("/{route}?token=");
    let start = mail
        .text
        .find(&prefix)
        .unwrap_or_else(|| panic!("a {prefix} link in {:?}", mail.text))
        + prefix.len();
    let token: String = mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(token.len() >= 32, "{token:?}");
    token
}
