//! The HTTP layer under the aedifion client, as a small trait: the real client
//! ([`super::ureq_transport::UreqTransport`]) and anything a test wants to put there share
//! every line above it (authentication, JSON, error mapping, the credential lifecycle).

use std::fmt;

/// HTTP methods the platform API needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
}

impl Method {
    /// The method as written in a request line.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// A body to send, with its media type.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestBody {
    /// `Content-Type`, e.g. `application/json`.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// One request. Its `Debug` hides the `Authorization` header and the body (they hold secrets).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL (`https://…`, or `http://…` for a loopback test server).
    pub url: String,
    /// Extra headers (name, value).
    pub headers: Vec<(&'static str, String)>,
    /// The body, if any.
    pub body: Option<RequestBody>,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, bytes: Vec<u8>) -> Self {
        self.body = Some(RequestBody {
            content_type: "application/json",
            bytes,
        });
        self
    }

    /// Sets an `application/x-www-form-urlencoded` body from (name, value) pairs.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.body = Some(RequestBody {
            content_type: "application/x-www-form-urlencoded",
            bytes: encoded.into_bytes(),
        });
        self
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                if name.eq_ignore_ascii_case("authorization") {
                    (*name, "(hidden)")
                } else {
                    (*name, value.as_str())
                }
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field(
                "body_bytes",
                &self.body.as_ref().map(|body| body.bytes.len()),
            )
            .finish()
    }
}

/// An answer, whatever its status (4xx and 5xx bodies carry the platform's error text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body (bounded by the transport).
    pub body: Vec<u8>,
}

/// Why a request got no answer at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The URL cannot be used.
    #[error("the address {url} is not a valid http(s) URL: {detail}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The host name did not resolve.
    #[error("the host of {url} was not found: check the address and your network connection")]
    HostNotFound {
        /// The URL.
        url: String,
    },
    /// No connection could be made (refused, unreachable, reset).
    #[error("could not connect to {url} ({detail}): check the address and your network connection")]
    Unreachable {
        /// The URL.
        url: String,
        /// The system's reason.
        detail: String,
    },
    /// No answer in time.
    #[error("{url} did not answer within {timeout_secs} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The time limit.
        timeout_secs: u64,
    },
    /// The TLS handshake failed (untrusted certificate, wrong host name, protocol mismatch).
    #[error(
        "TLS with {url} failed: {detail}. If a company proxy inspects HTTPS, add its CA certificate."
    )]
    Tls {
        /// The URL.
        url: String,
        /// What rustls said.
        detail: String,
    },
    /// The proxy from the environment (`HTTPS_PROXY`, `ALL_PROXY`…) refused or failed.
    #[error("the proxy refused the connection to {url}: {detail}. Check HTTPS_PROXY / NO_PROXY.")]
    Proxy {
        /// The URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The answer was larger than the transport accepts.
    #[error("the answer from {url} is larger than {limit_bytes} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit_bytes: u64,
    },
    /// Anything else on the wire.
    #[error("the request to {url} failed: {detail}")]
    Other {
        /// The URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
}

/// Sends requests and returns answers of any status. Implementations must bound every request
/// in time and never panic; callers run them off the UI thread.
pub trait HttpTransport: Send + Sync {
    /// Sends `request` and waits for the whole answer.
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_authorization_header_and_the_body() {
        let request = HttpRequest::new(Method::Post, "https://api.aedifion.io/x")
            .header("Authorization", "Basic c2VjcmV0")
            .header("Accept", "application/json")
            .form(&[("password", "hunter2")]);
        let text = format!("{request:?}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("(hidden)") && text.contains("application/json"),
            "{text}"
        );
    }

    #[test]
    fn form_bodies_are_url_encoded() {
        let request = HttpRequest::new(Method::Post, "http://x").form(&[
            ("grant_type", "password"),
            ("username", "a+b@example.com"),
            ("password", "p&q=r s"),
        ]);
        let body = request.body.expect("body");
        assert_eq!(body.content_type, "application/x-www-form-urlencoded");
        assert_eq!(
            String::from_utf8(body.bytes).expect("ascii"),
            "grant_type=password&username=a%2Bb%40example.com&password=p%26q%3Dr+s"
        );
    }
}
