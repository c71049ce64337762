use std::time::Duration;

use anb_domain::mail::MailMessage;
use anb_domain::ports::{MailError, Mailer, Unavailable};
use anyhow::Context as _;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

/// How long connecting may take; the whole send (connecting, the greeting, every command and
/// the data) may take three times as long. Past either the send fails with
/// `MailError::Unavailable`: a server that hangs never holds a request for long.
///
/// lettre's tokio transport bounds only the connection (its blocking transport sets read
/// timeouts; the async one has none: a server that accepted and then said nothing held the send
/// forever), so the whole send is bounded here.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// SMTP reply codes that refuse the recipient for good: 550 (no such mailbox, or policy), 551
/// (not local), 553 (mailbox name not allowed).
const REFUSED_RECIPIENT: &[&str] = &["550", "551", "553"];

/// Sends email through an SMTP server (lettre, pooled connections, rustls).
///
/// The URL is lettre's: `smtp://user:pass@host:port` (plain, port 25 by default),
/// `smtp://…?tls=required` (STARTTLS required, port 587), `smtp://…?tls=opportunistic`,
/// `smtps://…` (TLS from the start, port 465). User and password are percent-decoded and used
/// for `AUTH` when present. Neither `Debug` nor an error shows the password.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The bound on a whole send.
    send_timeout: Duration,
    from: Mailbox,
    server: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for the server `url` names, every message from `from`. Connects lazily: a
    /// server that is down fails the sends, not this.
    ///
    /// # Errors
    /// When `url` is not an SMTP URL lettre knows (the error never repeats the URL).
    pub fn from_url(url: &str, from: Mailbox) -> anyhow::Result<Self> {
        Self::from_url_with_timeout(url, from, SMTP_TIMEOUT)
    }

    /// Like [`SmtpMailer::from_url`], with another bound than [`SMTP_TIMEOUT`] on connecting
    /// (and three times it on the whole send).
    ///
    /// # Errors
    /// As [`SmtpMailer::from_url`].
    pub fn from_url_with_timeout(
        url: &str,
        from: Mailbox,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(url).context("the SMTP URL is not a URL")?;
        let server = format!(
            "{}://{}:{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or_default(),
            parsed
                .port()
                .map_or_else(|| "default".to_owned(), |p| p.to_string())
        );
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("the SMTP URL {server} is not usable: {e}"))?
            .timeout(Some(timeout))
            .build();
        Ok(Self {
            transport,
            send_timeout: timeout * 3,
            from,
            server,
        })
    }

    /// `scheme://host:port` of the server (no credentials), for logs.
    pub fn server(&self) -> &str {
        &self.server
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &MailMessage) -> Result<(), MailError> {
        let email = super::build(&self.from, message)?;
        let unavailable = |cause: Box<dyn std::error::Error + Send + Sync>| {
            MailError::Unavailable(
                anyhow::Error::new(Unavailable::because(
                    format!("the SMTP server {}", self.server),
                    Duration::from_secs(30),
                    cause,
                ))
                .context("sending an email"),
            )
        };
        match tokio::time::timeout(self.send_timeout, self.transport.send(email)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if refuses_the_recipient(&e) => {
                tracing::info!(server = %self.server, error = %e, "the SMTP server refused a recipient");
                Err(MailError::RecipientRefused(message.to.clone()))
            }
            Ok(Err(e)) => Err(unavailable(Box::new(e))),
            Err(_) => Err(unavailable(
                format!("no answer within {:?}", self.send_timeout).into(),
            )),
        }
    }
}

fn refuses_the_recipient(error: &SmtpError) -> bool {
    error.is_permanent()
        && error
            .status()
            .is_some_and(|code| REFUSED_RECIPIENT.contains(&code.to_string().as_str()))
}
