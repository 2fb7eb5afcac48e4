//! Profiles from URLs (`--url mqtts://me@host:8884`): the one place a URL and `--subscribe`
//! filters become a profile, for the window and every command.

use crate::model::config::profile::{
    DEFAULT_WS_PATH, PasswordStorage, Profile, ProfileError, Subscription, Transport,
    check_topic_filter,
};
use crate::model::topic::qos::Qos;

/// Why a `--url` could not become a profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a URL at all.
    #[error("\"{url}\" is not a URL ({reason}); write it like mqtt://localhost:1883")]
    Malformed {
        /// The input.
        url: String,
        /// What the parser said.
        reason: String,
    },
    /// No `scheme://`.
    #[error("\"{0}\" has no scheme; write it like mqtt://{0} (or mqtts://, ws://, wss://)")]
    MissingScheme(String),
    /// A scheme other than mqtt, mqtts, ws, wss.
    #[error("unsupported scheme \"{0}\": use mqtt://, mqtts://, ws:// or wss://")]
    UnsupportedScheme(String),
    /// No host.
    #[error("the URL has no host; write it like mqtt://localhost:1883")]
    MissingHost,
    /// A password in the URL would end up in shell history and process lists.
    #[error(
        "do not put the password in the URL: set the TOPICSCOPE_PASSWORD environment variable instead"
    )]
    PasswordInUrl,
    /// A path on a non-WebSocket URL.
    #[error("a path (\"{0}\") only makes sense for ws:// and wss:// URLs")]
    PathWithoutWebSocket(String),
    /// Query or fragment.
    #[error("the URL must not have a query (?…) or fragment (#…)")]
    QueryOrFragment,
    /// Port 0.
    #[error("port 0 is not valid: use 1–65535")]
    PortZero,
}

/// Turns `mqtt[s]|ws[s]://[user@]host[:port][/path]` into an ad-hoc profile.
///
/// Default ports: mqtt 1883, mqtts 8883, ws 80, wss 443; WebSocket path defaults to `/mqtt`.
/// With a user name the password is asked for (or taken from `TOPICSCOPE_PASSWORD` by the CLI).
/// The profile subscribes to `#`; the caller may replace the subscriptions.
pub fn url_to_profile(text: &str) -> Result<Profile, UrlError> {
    let text = text.trim();
    if !text.contains("://") {
        return Err(UrlError::MissingScheme(text.to_owned()));
    }
    let url = url::Url::parse(text).map_err(|error| UrlError::Malformed {
        url: text.to_owned(),
        reason: error.to_string(),
    })?;
    let transport = match url.scheme() {
        "mqtt" | "tcp" => Transport::Tcp,
        "mqtts" | "ssl" | "tls" => Transport::Tls,
        "ws" => Transport::WebSocket,
        "wss" => Transport::SecureWebSocket,
        other => return Err(UrlError::UnsupportedScheme(other.to_owned())),
    };
    if url.password().is_some() {
        return Err(UrlError::PasswordInUrl);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(UrlError::QueryOrFragment);
    }
    let host = match url.host() {
        Some(url::Host::Domain(domain)) if !domain.is_empty() => percent_decode(domain),
        Some(url::Host::Ipv4(address)) => address.to_string(),
        Some(url::Host::Ipv6(address)) => address.to_string(),
        _ => return Err(UrlError::MissingHost),
    };
    let port = url
        .port_or_known_default()
        .unwrap_or(transport.default_port());
    if port == 0 {
        return Err(UrlError::PortZero);
    }
    let path = url.path();
    let ws_path = if transport.uses_websocket() {
        if path.is_empty() || path == "/" {
            DEFAULT_WS_PATH.to_owned()
        } else {
            path.to_owned()
        }
    } else if path.is_empty() || path == "/" {
        DEFAULT_WS_PATH.to_owned()
    } else {
        return Err(UrlError::PathWithoutWebSocket(path.to_owned()));
    };
    let username = percent_decode(url.username());
    let password_storage = if username.is_empty() {
        PasswordStorage::None
    } else {
        PasswordStorage::Ask
    };
    let mut profile = Profile {
        host,
        port,
        transport,
        ws_path,
        username,
        password_storage,
        ..Profile::new_with_fresh_ids()
    };
    profile.name = profile.display_url();
    // However the connection is made, a building on aedifion.io is read-only until the user
    // says otherwise (`--allow-writes`).
    profile.read_only = profile.is_aedifion_host();
    Ok(profile)
}

/// Lifts the read-only default of a URL profile (`--allow-writes`).
pub fn allow_writes(profile: &mut Profile, allow: bool) {
    if allow {
        profile.read_only = false;
    }
}

/// Lets a URL profile send its password over plain TCP or WebSocket to another computer
/// (`--allow-unencrypted-login`); refused otherwise.
pub fn allow_unencrypted_login(profile: &mut Profile, allow: bool) {
    if allow {
        profile.allow_unencrypted_login = true;
    }
}

/// Help text of every command's `--allow-unencrypted-login`.
pub const ALLOW_UNENCRYPTED_LOGIN_HELP: &str = "Allow sending the password unencrypted (mqtt:// or ws://) to a host that is not this computer; refused otherwise.";

/// Help text of every command's `--allow-writes`.
pub const ALLOW_WRITES_HELP: &str = "Allow writes (publish, setpoints, load runs) with --url to an aedifion.io host, which is read-only by default. A saved profile's Read-only switch is changed in the profile editor.";

/// Decodes `%XX` escapes (user names like `me%40example.com`); invalid escapes stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Why a URL with `--subscribe` filters could not become a profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlProfileError {
    /// The URL is malformed.
    #[error("--url: {0}")]
    Url(#[from] UrlError),
    /// A `--subscribe` filter is not a valid topic filter.
    #[error("--subscribe \"{filter}\" is not a valid topic filter: {reason}")]
    Filter {
        /// The filter as given.
        filter: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The profile does not pass validation (e.g. aedifion.io without a user name).
    #[error("--url: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))]
    InvalidProfile(Vec<ProfileError>),
}

/// The ad-hoc profile for `url` subscribing to `filters` (none: keep the URL profile's `#`) at
/// `qos` (none: QoS 1 on aedifion.io hosts, which is what their accounts expect, else 0),
/// validated like a saved profile. The window's `--url` and every command build it here.
pub fn profile_from_url(
    url: &str,
    filters: &[String],
    qos: Option<Qos>,
) -> Result<Profile, UrlProfileError> {
    let mut profile = url_to_profile(url)?;
    if !filters.is_empty() {
        let qos = qos.unwrap_or(if profile.is_aedifion_host() {
            Qos::AtLeastOnce
        } else {
            Qos::AtMostOnce
        });
        profile.subscriptions = Vec::new();
        for filter in filters {
            check_topic_filter(filter).map_err(|reason| UrlProfileError::Filter {
                filter: filter.clone(),
                reason,
            })?;
            profile
                .subscriptions
                .push(Subscription::new(filter.clone(), qos));
        }
    } else if let Some(qos) = qos {
        for subscription in &mut profile.subscriptions {
            subscription.qos = qos;
        }
    }
    // A password over plain transport is judged at connect (`Profile::connect_problems`),
    // after `--allow-unencrypted-login` had its say.
    let problems: Vec<ProfileError> = profile
        .validate()
        .err()
        .unwrap_or_default()
        .into_iter()
        .filter(|problem| !matches!(problem, ProfileError::PasswordOverPlainTransport { .. }))
        .collect();
    if !problems.is_empty() {
        return Err(UrlProfileError::InvalidProfile(problems));
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn url_with_defaults_becomes_a_tcp_profile_subscribing_to_everything() {
        let profile = url_to_profile("mqtt://broker.example.com").expect("valid");
        assert_eq!(
            (profile.host.as_str(), profile.port),
            ("broker.example.com", 1883)
        );
        assert_eq!(profile.transport, Transport::Tcp);
        assert_eq!(
            profile.subscriptions,
            vec![Subscription::new("#", Qos::AtMostOnce)]
        );
        assert_eq!(profile.password_storage, PasswordStorage::None);
        assert_eq!(profile.name, "mqtt://broker.example.com:1883");
        assert_eq!(profile.validate(), Ok(()));
    }

    #[test]
    fn url_schemes_map_to_transports_and_default_ports() {
        let cases = [
            ("mqtts://h", Transport::Tls, 8883),
            ("ws://h", Transport::WebSocket, 80),
            ("wss://h", Transport::SecureWebSocket, 443),
            ("wss://h:9001/ws", Transport::SecureWebSocket, 9001),
            ("MQTT://h:1884", Transport::Tcp, 1884),
        ];
        for (url, transport, port) in cases {
            let profile = url_to_profile(url).expect(url);
            assert_eq!(
                (profile.transport, profile.port),
                (transport, port),
                "{url}"
            );
        }
    }

    #[test]
    fn url_websocket_path_defaults_to_mqtt() {
        assert_eq!(url_to_profile("ws://h").expect("ok").ws_path, "/mqtt");
        assert_eq!(url_to_profile("ws://h/").expect("ok").ws_path, "/mqtt");
        assert_eq!(
            url_to_profile("wss://h:9001/custom/path")
                .expect("ok")
                .ws_path,
            "/custom/path"
        );
    }

    #[test]
    fn url_user_is_decoded_and_password_is_asked() {
        let profile =
            url_to_profile("mqtts://me%40example.com@mqtt2.aedifion.io:8884").expect("ok");
        assert_eq!(profile.username, "me@example.com");
        assert_eq!(profile.password_storage, PasswordStorage::Ask);
        assert_eq!(profile.host, "mqtt2.aedifion.io");
    }

    #[test]
    fn an_aedifion_url_is_read_only_until_writes_are_allowed() {
        let mut aedifion = url_to_profile("mqtts://me@mqtt2.aedifion.io:8884").expect("ok");
        assert!(aedifion.read_only);
        allow_writes(&mut aedifion, false);
        assert!(aedifion.read_only);
        allow_writes(&mut aedifion, true);
        assert!(!aedifion.read_only);
        assert!(!url_to_profile("mqtt://localhost").expect("ok").read_only);
    }

    #[test]
    fn url_ipv6_host_loses_its_brackets() {
        let profile = url_to_profile("mqtt://[::1]:1883").expect("ok");
        assert_eq!(profile.host, "::1");
        assert_eq!(profile.display_url(), "mqtt://[::1]:1883");
        assert_eq!(profile.validate(), Ok(()));
    }

    #[test]
    fn url_errors_say_what_to_write() {
        assert_eq!(
            url_to_profile("localhost:1883"),
            Err(UrlError::MissingScheme("localhost:1883".into()))
        );
        assert_eq!(
            url_to_profile("http://h"),
            Err(UrlError::UnsupportedScheme("http".into()))
        );
        assert_eq!(
            url_to_profile("mqtt://u:secret@h"),
            Err(UrlError::PasswordInUrl)
        );
        assert_eq!(
            url_to_profile("mqtt://h/path"),
            Err(UrlError::PathWithoutWebSocket("/path".into()))
        );
        assert_eq!(
            url_to_profile("mqtt://h?x=1"),
            Err(UrlError::QueryOrFragment)
        );
        assert_eq!(url_to_profile("mqtt://h:0"), Err(UrlError::PortZero));
        assert!(matches!(
            url_to_profile("mqtt://h:99999"),
            Err(UrlError::Malformed { .. })
        ));
        assert!(matches!(
            url_to_profile("mqtt://"),
            Err(UrlError::Malformed { .. } | UrlError::MissingHost)
        ));
        assert!(!UrlError::PasswordInUrl.to_string().contains("secret"));
    }

    #[test]
    fn url_filters_and_qos_make_one_validated_profile() {
        let filters = vec!["a/#".to_owned(), "b/+".to_owned()];
        let profile = profile_from_url("mqtt://localhost", &filters, None).expect("valid");
        let subscribed: Vec<(&str, Qos)> = profile
            .subscriptions
            .iter()
            .map(|s| (s.filter.as_str(), s.qos))
            .collect();
        assert_eq!(
            subscribed,
            [("a/#", Qos::AtMostOnce), ("b/+", Qos::AtMostOnce)]
        );
        let aedifion = profile_from_url(
            "mqtts://me@mqtt2.aedifion.io:8884",
            &["lbg01/x/#".to_owned()],
            None,
        )
        .expect("valid");
        assert_eq!(aedifion.subscriptions[0].qos, Qos::AtLeastOnce);
        let everything =
            profile_from_url("mqtt://localhost", &[], Some(Qos::ExactlyOnce)).expect("valid");
        assert_eq!(everything.subscriptions[0].filter, "#");
        assert_eq!(everything.subscriptions[0].qos, Qos::ExactlyOnce);
        let error = profile_from_url("mqtt://localhost", &["a/#/b".to_owned()], None)
            .expect_err("bad filter");
        assert!(error.to_string().contains("a/#/b"), "{error}");
        assert!(matches!(
            profile_from_url("mqtts://mqtt2.aedifion.io:8884", &[], None),
            Err(UrlProfileError::InvalidProfile(_))
        ));
    }
}
