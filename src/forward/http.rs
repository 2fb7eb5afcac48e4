//! The InfluxDB write endpoint over blocking HTTP (ureq 3, rustls on the aws-lc-rs provider,
//! the OS trust store plus an optional CA file): builds the URL and headers for 1.x and 2.x,
//! sends a gzip body and sorts the answer into success, retry later, or give up on the batch.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

use super::{ForwardConfig, InfluxTarget};

/// What became of one write request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// InfluxDB stored the batch (204).
    Written,
    /// Not stored now, may be later (server down, overloaded, wrong credentials or missing
    /// database that someone may fix): keep the batch and try again.
    Retry(String),
    /// The server refused the data itself (400, 413, 422): retrying cannot help.
    Rejected(String),
}

/// A configured write endpoint.
pub struct InfluxClient {
    agent: ureq::Agent,
    url: String,
    authorization: Option<String>,
    gzip: bool,
}

/// Why a forwarder cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The URL is not an http(s) URL.
    #[error("InfluxDB URL \"{url}\": {reason}")]
    Url {
        /// As given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The CA file cannot be read.
    #[error("cannot read the CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The forwarder thread could not be started.
    #[error("cannot start the InfluxDB forwarder thread: {0}")]
    Thread(std::io::Error),
}

impl InfluxClient {
    /// A client for `config` (reads the OS trust store for https URLs: call it off the UI thread).
    pub fn new(config: &ForwardConfig) -> Result<InfluxClient, SetupError> {
        let url = write_url(&config.url, &config.target)?;
        let tls = tls_config(config)?;
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.request_timeout))
            .user_agent(format!("TopicScope/{}", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build();
        let authorization = match &config.target {
            InfluxTarget::V1 {
                user: Some(user),
                password,
                ..
            } => {
                let pair = format!("{user}:{}", password.as_deref().unwrap_or(""));
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
            InfluxTarget::V1 { user: None, .. } => None,
            InfluxTarget::V2 { token, .. } => Some(format!("Token {token}")),
        };
        Ok(InfluxClient {
            agent: agent_config.new_agent(),
            url,
            authorization,
            gzip: config.gzip,
        })
    }

    /// The write URL (without credentials), for messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends `body` (line protocol, `\n`-separated) in one request.
    pub fn write(&self, body: &str) -> WriteOutcome {
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "text/plain; charset=utf-8");
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization);
        }
        let result = if self.gzip {
            match gzip(body.as_bytes()) {
                Ok(compressed) => request
                    .header("Content-Encoding", "gzip")
                    .send(&compressed[..]),
                Err(error) => return WriteOutcome::Retry(format!("cannot compress: {error}")),
            }
        } else {
            request.send(body.as_bytes())
        };
        let mut response = match result {
            Ok(response) => response,
            Err(error) => return WriteOutcome::Retry(transport_error(&self.url, &error)),
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return WriteOutcome::Written;
        }
        let detail = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let detail = server_message(&detail);
        match status {
            400 | 413 | 422 => {
                WriteOutcome::Rejected(format!("InfluxDB refused the data ({status}): {detail}"))
            }
            401 => WriteOutcome::Retry(format!(
                "InfluxDB refused the credentials (401): check the user and password or the \
                 token. {detail}"
            )),
            403 => WriteOutcome::Retry(format!(
                "InfluxDB denied writing (403): the user or token needs write permission on the \
                 database or bucket. {detail}"
            )),
            404 => WriteOutcome::Retry(format!(
                "InfluxDB has no such database or bucket (404): create it or check the name. \
                 {detail}"
            )),
            _ => WriteOutcome::Retry(format!("InfluxDB answered {status}: {detail}")),
        }
    }
}

/// The error text of an InfluxDB answer: the `error`/`message` member of a JSON body, else the
/// body, shortened.
fn server_message(body: &str) -> String {
    let text = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|json| {
            json.get("error")
                .or_else(|| json.get("message"))
                .and_then(|value| value.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| body.trim().to_owned());
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn transport_error(url: &str, error: &ureq::Error) -> String {
    let base = url.split('?').next().unwrap_or(url);
    match error {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("cannot connect to {base}: connection refused (is InfluxDB running?)")
        }
        ureq::Error::Timeout(_) => format!("{base} did not answer in time ({error})"),
        ureq::Error::HostNotFound => format!("cannot resolve the host of {base}"),
        _ => {
            let text = error.to_string();
            match text.split_once("invalid peer certificate: ") {
                Some((_, why)) => format!(
                    "cannot write to {base}: the server's TLS certificate is not trusted ({why}): \
                     give its CA certificate (PEM) as the CA file, or check the host name"
                ),
                None => format!("cannot write to {base}: {error}"),
            }
        }
    }
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// `/write?db=…[&rp=…]&precision=ns` (1.x) or `/api/v2/write?org=…&bucket=…&precision=ns`
/// (2.x, 3.x) under the base URL (which may have a path prefix).
pub fn write_url(base: &str, target: &InfluxTarget) -> Result<String, SetupError> {
    let bad = |reason: &str| SetupError::Url {
        url: base.to_owned(),
        reason: reason.to_owned(),
    };
    let mut url = url::Url::parse(base).map_err(|error| bad(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("use http:// or https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "put no credentials in the URL: give the user and password (or token) separately",
        ));
    }
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| bad("not a base URL"))?;
        segments.pop_if_empty();
        match target {
            InfluxTarget::V1 { .. } => {
                segments.push("write");
            }
            InfluxTarget::V2 { .. } => {
                segments.extend(["api", "v2", "write"]);
            }
        }
    }
    url.set_query(None);
    {
        let mut query = url.query_pairs_mut();
        match target {
            InfluxTarget::V1 {
                database,
                retention_policy,
                ..
            } => {
                query.append_pair("db", database);
                if let Some(policy) = retention_policy {
                    query.append_pair("rp", policy);
                }
            }
            InfluxTarget::V2 { org, bucket, .. } => {
                query.append_pair("org", org);
                query.append_pair("bucket", bucket);
            }
        }
        query.append_pair("precision", "ns");
    }
    Ok(url.to_string())
}

/// rustls with the aws-lc-rs provider; roots from the OS store (https only) plus the CA file.
fn tls_config(config: &ForwardConfig) -> Result<TlsConfig, SetupError> {
    let mut roots: Vec<Certificate<'static>> = Vec::new();
    if config.url.starts_with("https") {
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::warn!("skipping part of the OS trust store: {error}");
        }
        roots.extend(
            native
                .certs
                .iter()
                .map(|der| Certificate::from_der(der.as_ref()).to_owned()),
        );
    }
    if let Some(path) = &config.ca_file {
        let ca_error = |reason: String| SetupError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|error| ca_error(error.to_string()))?;
        let before = roots.len();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(certificate)) => roots.push(certificate),
                Ok(_) => {}
                Err(error) => return Err(ca_error(error.to_string())),
            }
        }
        if roots.len() == before {
            return Err(ca_error("it holds no PEM certificate".into()));
        }
    }
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .build())
}

/// How long to wait before retry number `attempt` (1-based): `initial` doubled each time, at
/// most `max`.
pub fn backoff(attempt: u32, initial: Duration, max: Duration) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    initial.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(rp: Option<&str>) -> InfluxTarget {
        InfluxTarget::V1 {
            database: "building data".into(),
            retention_policy: rp.map(Into::into),
            user: None,
            password: None,
        }
    }

    #[test]
    fn write_urls_for_both_api_versions() {
        assert_eq!(
            write_url("http://localhost:8086", &v1(None)).unwrap(),
            "http://localhost:8086/write?db=building+data&precision=ns"
        );
        assert_eq!(
            write_url("https://h/influx/", &v1(Some("week"))).unwrap(),
            "https://h/influx/write?db=building+data&rp=week&precision=ns"
        );
        let v2 = InfluxTarget::V2 {
            org: "acme".into(),
            bucket: "b&b".into(),
            token: "secret".into(),
        };
        assert_eq!(
            write_url("http://h:8086", &v2).unwrap(),
            "http://h:8086/api/v2/write?org=acme&bucket=b%26b&precision=ns"
        );
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        for (url, needle) in [
            ("localhost:8086", "http"),
            ("ftp://h", "http://"),
            ("http://me:pw@h", "credentials"),
            ("not a url", "relative URL"),
        ] {
            let error = write_url(url, &v1(None)).unwrap_err().to_string();
            assert!(error.contains(needle), "{url}: {error}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let initial = Duration::from_millis(500);
        let max = Duration::from_secs(30);
        let waits: Vec<u64> = (1..=9)
            .map(|n| backoff(n, initial, max).as_millis() as u64)
            .collect();
        assert_eq!(
            waits,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(backoff(u32::MAX, initial, max), max);
    }

    #[test]
    fn server_messages_are_taken_from_json_and_shortened() {
        assert_eq!(
            server_message(r#"{"error":"database not found: \"x\""}"#),
            "database not found: \"x\""
        );
        assert_eq!(server_message("  plain  "), "plain");
        assert_eq!(server_message(&"x".repeat(500)).chars().count(), 301);
    }
}
