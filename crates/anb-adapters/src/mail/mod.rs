//! Email ([`Mailer`](anb_domain::ports::Mailer)): [`FileMailer`] writes each message as an
//! `.eml` file (the embedded default: no mail server needed), `SmtpMailer` (feature `smtp`)
//! hands it to an SMTP server. Both build the message with lettre, which encodes non-ASCII
//! text and keeps a line break in the subject inside the subject (never a header of its own).

mod file;
#[cfg(feature = "smtp")]
mod smtp;

use anb_domain::mail::MailMessage;
use anb_domain::ports::MailError;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Address, Message};

pub use file::FileMailer;
#[cfg(feature = "smtp")]
pub use smtp::{SmtpMailer, SMTP_TIMEOUT};

/// The sender every message carries, parsed: `ANB Showcase <no-reply@example.com>` or a bare
/// address.
///
/// # Errors
/// When `raw` is not a mailbox.
///
/// ```
/// let from = anb_adapters::mail::parse_from("ANB Showcase <no-reply@localhost>").unwrap();
/// assert_eq!(from.email.to_string(), "no-reply@localhost");
/// assert!(anb_adapters::mail::parse_from("no reply").is_err());
/// ```
pub fn parse_from(raw: &str) -> anyhow::Result<Mailbox> {
    raw.trim()
        .parse::<Mailbox>()
        .map_err(|e| anyhow::anyhow!("{raw:?} is not a mailbox (Name <user@host>): {e}"))
}

/// The RFC 5322 message for `message`, from `from`: a `Message-ID` on the sender's domain, the
/// text closed by a line break (SMTP adds one where it is missing; files get the same bytes).
///
/// # Errors
/// [`MailError::RecipientRefused`] when lettre cannot address the recipient (a parsed
/// [`Email`](anb_domain::Email) always can); [`MailError::Unavailable`] when the message cannot
/// be built.
fn build(from: &Mailbox, message: &MailMessage) -> Result<Message, MailError> {
    let to: Address = message
        .to
        .as_str()
        .parse()
        .map_err(|_| MailError::RecipientRefused(message.to.clone()))?;
    // SMTP ends every message with a line break; the files end the same way.
    let mut text = message.text.clone();
    if !text.ends_with('\n') {
        text.push_str("\r\n");
    }
    Message::builder()
        .message_id(Some(format!(
            "<{}@{}>",
            uuid::Uuid::new_v4().simple(),
            from.email.domain()
        )))
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(message.subject.as_str())
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| MailError::Unavailable(anyhow::Error::new(e).context("building the email")))
}
