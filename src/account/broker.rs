//! Which broker an account's credentials are for (production or development, MQTT over TLS on
//! 8884), and a profile that connects with them.

use crate::model::aedifion::project::AedifionProject;
use crate::model::config::profile::{
    MqttVersion, PasswordStorage, Profile, Subscription, Transport,
};
use crate::model::topic::qos::Qos;

use super::acl::SubscriptionPlan;
use super::api::Rights;
use super::client::{DEVELOPMENT_API_URL, PRODUCTION_API_URL};

/// The documented MQTT-over-TLS port of aedifion's brokers (not 8883).
pub const AEDIFION_TLS_PORT: u16 = 8884;

/// An aedifion environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// `api.aedifion.io` with `mqtt2.aedifion.io`.
    Production,
    /// `api-dev.aedifion.io` with `mqtt-dev.aedifion.io`.
    Development,
    /// Any other API URL; the broker must be given.
    Custom,
}

impl Environment {
    /// The environments a user picks from.
    pub const ALL: [Environment; 3] = [
        Environment::Production,
        Environment::Development,
        Environment::Custom,
    ];

    /// The environment of an API URL.
    pub fn of_api_url(api_url: &str) -> Self {
        match host_of(api_url).as_deref() {
            Some("api.aedifion.io" | "api3.aedifion.io") => Environment::Production,
            Some("api-dev.aedifion.io") => Environment::Development,
            _ => Environment::Custom,
        }
    }

    /// Its API URL (`None` for a custom one).
    pub fn api_url(self) -> Option<&'static str> {
        match self {
            Environment::Production => Some(PRODUCTION_API_URL),
            Environment::Development => Some(DEVELOPMENT_API_URL),
            Environment::Custom => None,
        }
    }

    /// Its broker (`None` for a custom one).
    pub fn broker(self) -> Option<BrokerEndpoint> {
        let host = match self {
            Environment::Production => "mqtt2.aedifion.io",
            Environment::Development => "mqtt-dev.aedifion.io",
            Environment::Custom => return None,
        };
        Some(BrokerEndpoint {
            host: host.into(),
            port: AEDIFION_TLS_PORT,
        })
    }

    /// The name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Environment::Production => "Production",
            Environment::Development => "Development",
            Environment::Custom => "Custom",
        }
    }
}

/// A broker reached with MQTT over TLS.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BrokerEndpoint {
    /// Host name (also the TLS server name).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl BrokerEndpoint {
    /// `mqtts://host:port`.
    pub fn url(&self) -> String {
        format!("mqtts://{}:{}", self.host, self.port)
    }

    /// Parses `host[:port]` (port 8884 when absent).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text.strip_prefix("mqtts://").unwrap_or(text);
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (text, AEDIFION_TLS_PORT),
        };
        let valid = !host.is_empty() && !host.contains(['/', ' ', '@']) && port != 0;
        valid.then(|| Self {
            host: host.to_owned(),
            port,
        })
    }
}

/// The broker of the environment an API URL belongs to.
pub fn broker_for_api(api_url: &str) -> Option<BrokerEndpoint> {
    Environment::of_api_url(api_url).broker()
}

fn host_of(api_url: &str) -> Option<String> {
    url::Url::parse(api_url.trim())
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
}

/// Points `profile` at `broker` with the account's user name and the plan's subscriptions
/// (QoS 1, as aedifion's examples use). The password is not stored in the profile: it is asked
/// of whoever holds the account (`PasswordStorage::Ask`). Read-only unless the account may write.
pub fn configure_profile(
    profile: &mut Profile,
    broker: &BrokerEndpoint,
    username: &str,
    rights: Rights,
    plan: &SubscriptionPlan,
) {
    profile.host = broker.host.clone();
    profile.port = broker.port;
    profile.transport = Transport::Tls;
    profile.mqtt_version = MqttVersion::V3_1_1;
    profile.username = username.to_owned();
    profile.password_storage = PasswordStorage::Ask;
    profile.subscriptions = plan
        .filters
        .iter()
        .map(|filter| Subscription::new(filter.clone(), Qos::AtLeastOnce))
        .collect();
    profile.aedifion_project = plan
        .project
        .as_ref()
        .map(AedifionProject::to_string)
        .unwrap_or_default();
    profile.read_only = rights == Rights::Read;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::acl::subscription_plan;
    use crate::account::api::AclEntry;

    #[test]
    fn api_urls_select_the_matching_broker() {
        let production = broker_for_api("https://api.aedifion.io/").expect("known");
        assert_eq!(production.url(), "mqtts://mqtt2.aedifion.io:8884");
        let development = broker_for_api("https://API-DEV.aedifion.io").expect("known");
        assert_eq!(development.url(), "mqtts://mqtt-dev.aedifion.io:8884");
        assert_eq!(broker_for_api("http://127.0.0.1:9999"), None);
        assert_eq!(Environment::of_api_url("not a url"), Environment::Custom);
    }

    #[test]
    fn broker_text_parses_with_a_default_port() {
        assert_eq!(
            BrokerEndpoint::parse("mqtts://b.example:1234"),
            Some(BrokerEndpoint {
                host: "b.example".into(),
                port: 1234
            })
        );
        assert_eq!(
            BrokerEndpoint::parse("b.example").map(|b| b.port),
            Some(8884)
        );
        assert_eq!(BrokerEndpoint::parse("b:x"), None);
        assert_eq!(BrokerEndpoint::parse(""), None);
    }

    #[test]
    fn the_profile_connects_with_tls_the_user_and_the_acl() {
        let plan = subscription_plan(
            &[AclEntry {
                id: Some(1),
                rights: Rights::Read,
                topic: "lbg01/b/#".into(),
            }],
            None,
        );
        let mut profile = Profile::new_with_fresh_ids();
        let broker = Environment::Production.broker().expect("known");
        configure_profile(&mut profile, &broker, "topicscope-h-1", Rights::Read, &plan);
        assert_eq!(profile.display_url(), "mqtts://mqtt2.aedifion.io:8884");
        assert_eq!(profile.username, "topicscope-h-1");
        assert_eq!(
            profile.subscriptions,
            [Subscription::new("lbg01/b/#", Qos::AtLeastOnce)]
        );
        assert_eq!(profile.aedifion_project, "lbg01/b");
        assert!(profile.read_only);
        assert_eq!(profile.password_storage, PasswordStorage::Ask);
        assert_eq!(profile.validate(), Ok(()));
    }
}
