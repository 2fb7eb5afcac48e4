//! The real HTTP client: ureq 3, blocking (callers run it off the UI thread), rustls with the
//! aws-lc-rs provider this project uses everywhere (no ring, no OpenSSL), the OS trust store
//! plus an optional extra CA file, time limits on every request, and the proxy from the
//! environment (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, honouring `NO_PROXY`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

use super::http::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};

/// Default limit for a whole request (connect, send, answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit for opening the connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read (a page of 100 datapoints is a few KiB; a project list a few hundred).
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// Settings of the real client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportSettings {
    /// Limit for a whole request.
    pub timeout: Duration,
    /// Limit for opening the connection.
    pub connect_timeout: Duration,
    /// A PEM file of extra CA certificates to trust (e.g. a company proxy that inspects HTTPS).
    pub extra_ca_file: Option<PathBuf>,
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            extra_ca_file: None,
        }
    }
}

/// Why the client could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportSetupError {
    /// The extra CA file cannot be read or holds no certificate.
    #[error("the CA file {path} cannot be used: {detail}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// The ureq agent, configured once and shared (it pools connections).
#[derive(Debug)]
pub struct UreqTransport {
    agent: ureq::Agent,
    timeout: Duration,
}

impl UreqTransport {
    /// A client with `settings`. Reads the OS trust store (a few milliseconds: do it off the UI
    /// thread, or once at start).
    pub fn new(settings: &TransportSettings) -> Result<Self, TransportSetupError> {
        let roots = root_certificates(settings.extra_ca_file.as_deref())?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .root_certs(RootCerts::Specific(Arc::new(roots)))
            .unversioned_rustls_crypto_provider(provider)
            .build();
        let agent = ureq::Agent::config_builder()
            // 4xx and 5xx answers carry the platform's error text: read them like any answer.
            .http_status_as_error(false)
            // The API does not redirect; following one could carry credentials elsewhere.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(settings.timeout))
            .timeout_connect(Some(settings.connect_timeout))
            .user_agent(concat!("TopicScope/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build()
            .new_agent();
        Ok(Self {
            agent,
            timeout: settings.timeout,
        })
    }
}

impl HttpTransport for UreqTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = request.url.as_str();
        let mapped = |error: ureq::Error| map_error(url, self.timeout, error);
        let result = match (request.method, &request.body) {
            (Method::Get, _) => {
                let mut builder = self.agent.get(url);
                for (name, value) in &request.headers {
                    builder = builder.header(*name, value);
                }
                builder.call()
            }
            (method, body) => {
                let mut builder = if method == Method::Put {
                    self.agent.put(url)
                } else {
                    self.agent.post(url)
                };
                for (name, value) in &request.headers {
                    builder = builder.header(*name, value);
                }
                match body {
                    Some(body) => builder
                        .content_type(body.content_type)
                        .send(body.bytes.as_slice()),
                    None => builder.send_empty(),
                }
            }
        };
        let mut response = result.map_err(mapped)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(mapped)?;
        Ok(HttpResponse { status, body })
    }
}

/// The OS trust store plus the certificates of `extra_ca_file`.
fn root_certificates(
    extra_ca_file: Option<&Path>,
) -> Result<Vec<Certificate<'static>>, TransportSetupError> {
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::warn!("skipping part of the OS trust store: {error}");
    }
    let mut roots: Vec<Certificate<'static>> = native
        .certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    if let Some(path) = extra_ca_file {
        let ca_error = |detail: String| TransportSetupError::CaFile {
            path: path.to_owned(),
            detail,
        };
        let extra = CertificateDer::pem_file_iter(path)
            .map_err(|error| ca_error(error.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| ca_error(error.to_string()))?;
        if extra.is_empty() {
            return Err(ca_error("it holds no PEM certificate".into()));
        }
        roots.extend(
            extra
                .iter()
                .map(|der| Certificate::from_der(der.as_ref()).to_owned()),
        );
    }
    if roots.is_empty() {
        // Plain-HTTP test servers still work; every HTTPS request will fail with a TLS error.
        tracing::warn!("no trusted CA certificates found: HTTPS requests will fail; add a CA file");
    }
    Ok(roots)
}

fn map_error(url: &str, timeout: Duration, error: ureq::Error) -> TransportError {
    let url = url.to_owned();
    match error {
        ureq::Error::Timeout(_) => TransportError::Timeout {
            url,
            timeout_secs: timeout.as_secs().max(1),
        },
        ureq::Error::HostNotFound => TransportError::HostNotFound { url },
        ureq::Error::ConnectionFailed => TransportError::Unreachable {
            url,
            detail: "connection failed".into(),
        },
        ureq::Error::Io(io) => {
            // rustls reports a failed handshake through the socket's io::Error.
            let tls = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>());
            match (tls, io.kind()) {
                (Some(tls), _) => TransportError::Tls {
                    url,
                    detail: tls_detail(tls),
                },
                (None, std::io::ErrorKind::TimedOut) => TransportError::Timeout {
                    url,
                    timeout_secs: timeout.as_secs().max(1),
                },
                (None, _) => TransportError::Unreachable {
                    url,
                    detail: io.to_string(),
                },
            }
        }
        ureq::Error::Tls(detail) => TransportError::Tls {
            url,
            detail: detail.to_owned(),
        },
        ureq::Error::Rustls(error) => TransportError::Tls {
            url,
            detail: tls_detail(&error),
        },
        ureq::Error::Pem(error) => TransportError::Tls {
            url,
            detail: error.to_string(),
        },
        ureq::Error::ConnectProxyFailed(detail) => TransportError::Proxy { url, detail },
        ureq::Error::InvalidProxyUrl => TransportError::Proxy {
            url,
            detail: "the proxy URL in the environment is not valid".into(),
        },
        ureq::Error::BodyExceedsLimit(limit_bytes) => TransportError::TooLarge { url, limit_bytes },
        ureq::Error::BadUri(detail) => TransportError::InvalidUrl { url, detail },
        ureq::Error::Http(error) => TransportError::InvalidUrl {
            url,
            detail: error.to_string(),
        },
        other => TransportError::Other {
            url,
            detail: other.to_string(),
        },
    }
}

/// rustls's error in words: the common certificate problems spelled out.
fn tls_detail(error: &rustls::Error) -> String {
    use rustls::CertificateError;
    match error {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not signed by a trusted CA".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::Expired) => {
            "the server's certificate has expired (or this computer's clock is wrong)".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::NotValidForName) => {
            "the server's certificate is for another host name".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ca_file_is_reported_with_its_path() {
        let settings = TransportSettings {
            extra_ca_file: Some(PathBuf::from("/nonexistent/ca.pem")),
            ..TransportSettings::default()
        };
        let error = UreqTransport::new(&settings).expect_err("missing file");
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    }

    #[test]
    fn a_closed_port_is_unreachable_not_a_panic() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        drop(listener);
        let transport = UreqTransport::new(&TransportSettings::default()).expect("client");
        let url = format!("http://127.0.0.1:{port}/v2/user/projects");
        let error = transport
            .send(&HttpRequest::new(Method::Get, url.clone()))
            .expect_err("nothing listens");
        assert!(
            matches!(&error, TransportError::Unreachable { url: u, .. } if *u == url),
            "{error:?}"
        );
    }
}
