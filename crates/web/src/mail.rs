//! The mail worker (issue 13.3): sends the outbox (`store::outbox`) over SMTP when one is
//! configured, one message per notification or one digest a day per person, with Vietnamese
//! text, retrying with backoff while the server is away.

use std::collections::BTreeMap;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use store::outbox::{self, OutboxMail};
use store::Db;

/// Where and as whom to send.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:25` (plain), `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465`,
    /// with `user:password@` when the server asks for it.
    pub smtp_url: String,
    /// The sender, e.g. `Quán triệt <quantriet@tinhuy.gialai.vn>`.
    pub from: String,
    /// The address users open the application at (links in the messages), without a final `/`.
    pub public_url: String,
}

/// A configured worker, checked before it starts.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
    public_url: String,
}

impl Mailer {
    /// Checks the configuration (the URL and the sender); the error says which is wrong.
    pub fn new(c: &MailConfig) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&c.smtp_url)
            .map_err(|e| format!("smtp_url: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from: Mailbox = c
            .from
            .parse()
            .map_err(|e| format!("mail_from {:?}: {e}", c.from))?;
        let domain = from.email.domain().to_string();
        Ok(Self {
            transport,
            from,
            domain,
            public_url: c.public_url.trim_end_matches('/').to_string(),
        })
    }

    /// Runs forever: claims due messages, sends them, marks them.
    pub async fn run(self, db: Db) {
        loop {
            let batch = match outbox::claim(&db, 20).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "mail: cannot read the outbox");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            if batch.is_empty() {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            let (each, digests): (Vec<OutboxMail>, Vec<OutboxMail>) =
                batch.into_iter().partition(|m| !m.digest);
            for m in each {
                let msg = self.single(&m);
                self.deliver(&db, msg, &[m.id], i64::from(m.attempts)).await;
            }
            let mut by_person: BTreeMap<i64, Vec<OutboxMail>> = BTreeMap::new();
            for m in digests {
                by_person.entry(m.person_id).or_default().push(m);
            }
            for rows in by_person.values() {
                let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
                let attempts = rows
                    .iter()
                    .map(|m| i64::from(m.attempts))
                    .max()
                    .unwrap_or(1);
                let msg = self.digest(rows);
                self.deliver(&db, msg, &ids, attempts).await;
            }
        }
    }

    async fn deliver(&self, db: &Db, msg: Result<Message, String>, ids: &[i64], attempts: i64) {
        let outcome = match msg {
            // A message that cannot be built (a malformed address) never will be: given up.
            Err(e) => Err((e, true)),
            Ok(m) => self
                .transport
                .send(m)
                .await
                .map(|_| ())
                .map_err(|e| (e.to_string(), e.is_permanent())),
        };
        let marked = match outcome {
            Ok(()) => outbox::mark_sent(db, ids).await,
            Err((e, permanent)) => {
                tracing::warn!(error = %e, permanent, attempts, ids = ?ids, "mail: not sent");
                let attempts = if permanent {
                    outbox::MAX_ATTEMPTS
                } else {
                    attempts
                };
                outbox::retry(db, ids, attempts, &e).await
            }
        };
        if let Err(e) = marked {
            tracing::error!(error = %e, ids = ?ids, "mail: cannot mark the outbox");
        }
    }

    fn link(&self, path: &str) -> String {
        if path.is_empty() {
            String::new()
        } else {
            format!("{}{path}", self.public_url)
        }
    }

    fn footer(&self) -> String {
        format!(
            "\n—\nQuán triệt · thư gửi tự động, xin đừng trả lời.\nĐổi cách nhận thư (từng thông báo, tổng hợp hằng ngày, không nhận): {}\n",
            self.link("/account")
        )
    }

    fn build(
        &self,
        to: &str,
        subject: &str,
        message_id: String,
        text: String,
    ) -> Result<Message, String> {
        let to: Mailbox = to
            .trim()
            .parse()
            .map_err(|e| format!("address {to:?}: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id))
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| e.to_string())
    }

    /// One notification.
    fn single(&self, m: &OutboxMail) -> Result<Message, String> {
        let mut text = format!("Kính gửi đồng chí {},\n\n{}\n", m.full_name, m.body);
        if !m.link.is_empty() {
            text.push_str(&format!("\nXem chi tiết: {}\n", self.link(&m.link)));
        }
        text.push_str(&self.footer());
        self.build(
            &m.to_address,
            &format!("[Quán triệt] {}", m.subject),
            m.message_id(&self.domain),
            text,
        )
    }

    /// A day's notifications of one person, in one message.
    fn digest(&self, rows: &[OutboxMail]) -> Result<Message, String> {
        let first = rows.first().ok_or("empty digest")?;
        let day = domain::study::utc_to_local(store::now()).format("%d/%m/%Y");
        let mut text = format!(
            "Kính gửi đồng chí {},\n\nCác thông báo gửi đồng chí từ lần tổng hợp trước ({}):\n",
            first.full_name,
            rows.len()
        );
        for m in rows {
            text.push_str(&format!(
                "\n• {}\n  {}\n",
                m.subject,
                m.body.replace('\n', "\n  ")
            ));
            if !m.link.is_empty() {
                text.push_str(&format!("  {}\n", self.link(&m.link)));
            }
        }
        text.push_str(&self.footer());
        self.build(
            &first.to_address,
            &format!("[Quán triệt] Tổng hợp {} thông báo ngày {day}", rows.len()),
            first.message_id(&self.domain),
            text,
        )
    }
}
