//! Outgoing email: what the service asks a [`Mailer`](crate::ports::Mailer) to deliver.

use crate::values::Email;

/// One plain-text email to one recipient (a verification link, a password reset). The sender
/// is the mailer's (configured once, `ANB_MAIL_FROM`), not the message's.
///
/// Any text is allowed in `subject` and `text`, non-ASCII included: the adapter encodes it
/// (MIME encoded words, quoted-printable or base64) so that it arrives unchanged, and a line
/// break in `subject` never becomes a header of its own.
///
/// ```
/// use anb_domain::mail::MailMessage;
/// use anb_domain::Email;
///
/// let message = MailMessage::new(
///     Email::parse("ana@example.com").unwrap(),
///     "Verificá tu correo",
///     "Abrí este enlace: https://anb.example/verify?token=abc",
/// );
/// assert_eq!(message.to.as_str(), "ana@example.com");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailMessage {
    /// The recipient (a parsed address: a malformed one cannot get this far).
    pub to: Email,
    /// The subject line.
    pub subject: String,
    /// The body, plain text (UTF-8; lines end with `\n` or `\r\n`).
    pub text: String,
}

impl MailMessage {
    /// A message to `to`.
    pub fn new(to: Email, subject: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            to,
            subject: subject.into(),
            text: text.into(),
        }
    }
}
