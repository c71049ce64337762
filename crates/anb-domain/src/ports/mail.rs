use async_trait::async_trait;

use crate::mail::MailMessage;
use crate::values::Email;

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail server refused the recipient for good (a mailbox it does not have or will not
    /// take: SMTP 550, 551, 553). Sending again will not help.
    #[error("the recipient {0} was refused")]
    RecipientRefused(Email),
    /// The message could not be handed over now: the server is down, unreachable, slow or
    /// answered with a transient or unexpected error; the directory cannot be written. A later
    /// attempt may succeed.
    #[error(transparent)]
    Unavailable(#[from] anyhow::Error),
}

/// Sends email: an SMTP server, a directory of `.eml` files (the embedded default), or memory.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Hands `message` over for delivery, from the mailer's sender. `Ok` means the message was
    /// accepted (by the server, or written whole), not that it reached the inbox.
    ///
    /// # Errors
    /// [`MailError::RecipientRefused`] when the server refuses the recipient for good;
    /// [`MailError::Unavailable`] for everything else (server down or refusing to talk,
    /// timeouts, an unwritable directory).
    async fn send(&self, message: &MailMessage) -> Result<(), MailError>;
}
