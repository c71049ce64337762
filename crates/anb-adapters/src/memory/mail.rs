use anb_domain::mail::MailMessage;
use anb_domain::ports::{MailError, Mailer};
use async_trait::async_trait;
use parking_lot::Mutex;

/// Keeps every message sent, in order, in process: for tests, demos and embedders that show
/// (or ignore) email themselves.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<MailMessage>>,
}

impl MemoryMailer {
    /// A mailer that has sent nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message sent so far, oldest first.
    pub fn messages(&self) -> Vec<MailMessage> {
        self.sent.lock().clone()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, message: &MailMessage) -> Result<(), MailError> {
        self.sent.lock().push(message.clone());
        Ok(())
    }
}
