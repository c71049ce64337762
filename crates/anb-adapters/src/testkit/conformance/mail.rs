//! Checks for [`Mailer`]: what is sent arrives, intact, at the subject's [`Mailbox`] (memory,
//! the files a `FileMailer` writes, the Maildir of a real SMTP server).
//!
//! A malformed recipient is not checked: [`MailMessage::to`] is a parsed [`Email`], so no
//! mailer can be handed one.

use std::collections::BTreeSet;
use std::sync::Arc;

use anb_domain::mail::MailMessage;
use anb_domain::ports::Mailer;
use anb_domain::Email;
use async_trait::async_trait;

use crate::testkit::unique;

/// A message as it arrived, decoded (MIME encoded words, quoted-printable, base64 undone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The `To` addresses.
    pub to: Vec<String>,
    /// The decoded subject.
    pub subject: String,
    /// The decoded plain-text body, line ends as `\n`, without the line breaks that close it
    /// (SMTP ends every message with one).
    pub text: String,
    /// The names of the message's headers, lower-cased, in order (empty for a mailbox that
    /// keeps no headers, like memory).
    pub headers: Vec<String>,
}

impl ReceivedMail {
    /// Parses an RFC 5322 message (an `.eml` file, a Maildir entry) with `mail-parser`.
    ///
    /// # Panics
    /// When `raw` is not a message.
    pub fn parse(raw: &[u8]) -> Self {
        let message = mail_parser::MessageParser::default()
            .parse(raw)
            .unwrap_or_else(|| panic!("not an email: {}", String::from_utf8_lossy(raw)));
        let to = message
            .to()
            .map(|to| {
                to.iter()
                    .filter_map(|a| a.address().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            to,
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message
                .body_text(0)
                .map(|text| body(&text))
                .unwrap_or_default(),
            headers: message
                .headers()
                .iter()
                .map(|h| h.name().to_ascii_lowercase())
                .collect(),
        }
    }

    /// The message as a mailbox that keeps [`MailMessage`]s (memory) holds it: no headers.
    pub fn kept(message: &MailMessage) -> Self {
        Self {
            to: vec![message.to.to_string()],
            subject: message.subject.clone(),
            text: body(&message.text),
            headers: Vec::new(),
        }
    }
}

/// `text` with `\n` line ends and without the line breaks that close it.
fn body(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end_matches('\n').to_owned()
}

/// Where a subject's sent messages can be read back.
#[async_trait]
pub trait Mailbox: Send + Sync {
    /// Every message that has arrived so far, in no particular order.
    async fn messages(&self) -> Vec<ReceivedMail>;
}

/// What the checks run on: a mailer and the mailbox its messages arrive in (empty at first).
#[derive(Clone)]
pub struct MailSubject {
    /// The mailer under test.
    pub mailer: Arc<dyn Mailer>,
    /// Where what it sends arrives.
    pub mailbox: Arc<dyn Mailbox>,
}

#[cfg(feature = "memory")]
#[async_trait]
impl Mailbox for crate::memory::MemoryMailer {
    async fn messages(&self) -> Vec<ReceivedMail> {
        self.messages().iter().map(ReceivedMail::kept).collect()
    }
}

/// The `.eml` files in a directory (what a [`FileMailer`](crate::mail::FileMailer) writes),
/// in file-name order; hidden (temporary) files are not messages.
#[cfg(feature = "mail")]
#[derive(Clone, Debug)]
pub struct EmlDirectory(pub std::path::PathBuf);

#[cfg(feature = "mail")]
impl EmlDirectory {
    /// The file names, sorted, hidden ones included (a leftover temporary file shows).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("reading the mail directory")
            .map(|entry| {
                entry
                    .expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }
}

#[cfg(feature = "mail")]
#[async_trait]
impl Mailbox for EmlDirectory {
    async fn messages(&self) -> Vec<ReceivedMail> {
        self.names()
            .iter()
            .filter(|name| !name.starts_with('.'))
            .map(|name| ReceivedMail::parse(&std::fs::read(self.0.join(name)).expect("an .eml")))
            .collect()
    }
}

fn recipient() -> Email {
    Email::parse(&format!("{}@example.com", unique("jugadora"))).unwrap()
}

/// What a message has to arrive with, in a mailbox's terms.
fn expected(message: &MailMessage) -> (Vec<String>, String, String) {
    (
        vec![message.to.to_string()],
        message.subject.clone(),
        body(&message.text),
    )
}

fn received(mail: &ReceivedMail) -> (Vec<String>, String, String) {
    (mail.to.clone(), mail.subject.clone(), mail.text.clone())
}

/// A message arrives with its recipient, subject and text intact: Spanish (non-ASCII) text,
/// a link longer than a mail line, lines that SMTP or mbox treat specially (a lone `.`,
/// `From `), all byte for byte after MIME decoding.
pub async fn a_sent_message_arrives_with_its_recipient_subject_and_text_intact(s: MailSubject) {
    let link = format!(
        "https://anb.example/verificar?token={}&redirect=%2Fmis-videos%3Fpagina%3D1&lang=es-AR",
        "aZ09-_".repeat(20)
    );
    assert!(link.len() > 100);
    let message = MailMessage::new(
        recipient(),
        "Verificá tu correo, Ñandú: ¡bienvenida a la ANB! 🏀",
        format!(
            "Hola, Ñandú:\n\nVerificá tu correo con este enlace (válido 24 horas):\n{link}\n\n\
             .\nFrom the ANB team, con cariño.\n  sangría: ¿qué tal?  \n"
        ),
    );
    s.mailer.send(&message).await.unwrap();
    let arrived = s.mailbox.messages().await;
    assert_eq!(arrived.len(), 1, "{arrived:#?}");
    assert_eq!(received(&arrived[0]), expected(&message));
    assert!(arrived[0].text.contains(&link), "the link, byte for byte");
}

/// Several messages sent one after another all arrive, each intact.
pub async fn several_messages_all_arrive(s: MailSubject) {
    let messages: Vec<MailMessage> = (0..5)
        .map(|i| MailMessage::new(recipient(), format!("Mensaje {i}"), format!("Número {i}.")))
        .collect();
    for message in &messages {
        s.mailer.send(message).await.unwrap();
    }
    let arrived: BTreeSet<_> = s.mailbox.messages().await.iter().map(received).collect();
    let sent: BTreeSet<_> = messages.iter().map(expected).collect();
    assert_eq!(arrived, sent);
}

/// Twenty messages sent at once all arrive, each intact and once.
pub async fn concurrent_sends_all_arrive(s: MailSubject) {
    let messages: Vec<MailMessage> = (0..20)
        .map(|i| {
            MailMessage::new(
                recipient(),
                format!("A la vez {i}"),
                format!("Envío concurrente número {i}."),
            )
        })
        .collect();
    let sends = messages.iter().map(|message| {
        let mailer = s.mailer.clone();
        let message = message.clone();
        tokio::spawn(async move { mailer.send(&message).await })
    });
    for sent in futures::future::join_all(sends).await {
        sent.expect("the send task").unwrap();
    }
    let arrived = s.mailbox.messages().await;
    assert_eq!(arrived.len(), messages.len());
    let arrived: BTreeSet<_> = arrived.iter().map(received).collect();
    let sent: BTreeSet<_> = messages.iter().map(expected).collect();
    assert_eq!(arrived, sent);
}

/// A subject carrying CR/LF and header-like text stays the subject, all-ASCII or not: no `Bcc`
/// or made-up header appears, the recipient is the only one, and the text is still in the
/// subject.
pub async fn a_line_break_in_the_subject_adds_no_header(s: MailSubject) {
    for (subject, text) in [
        (
            "Your code\r\nBcc: intruso@example.com\r\nX-Injected: yes\r\n\r\nbody?",
            "ASCII",
        ),
        (
            "Tu código\nBcc: intruso@example.com\nX-Injected: yes\n\nbody?",
            "Ñandú",
        ),
    ] {
        let message = MailMessage::new(recipient(), subject, text);
        s.mailer.send(&message).await.unwrap();
        let arrived = s.mailbox.messages().await;
        let mail = arrived
            .iter()
            .find(|m| m.text == text)
            .unwrap_or_else(|| panic!("{text:?} did not arrive: {arrived:#?}"));
        assert_eq!(mail.to, vec![message.to.to_string()]);
        for injected in ["bcc", "x-injected"] {
            assert!(
                !mail.headers.iter().any(|h| h == injected),
                "a {injected} header appeared: {mail:#?}"
            );
        }
        let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words(&mail.subject).contains("Bcc: intruso@example.com X-Injected: yes body?"),
            "{mail:#?}"
        );
    }
    assert_eq!(s.mailbox.messages().await.len(), 2);
}
