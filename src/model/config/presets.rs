//! Ready-made starting points for new profiles: aedifion.io production and development (TLS on
//! 8884 or WebSocket on 9001), a local Mosquitto, and the built-in demo.

use crate::model::config::profile::{
    DEFAULT_KEEP_ALIVE_SECS, DEFAULT_WS_PATH, MqttVersion, PasswordStorage, Profile, Transport,
};

/// Ready-made starting points for new profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `mqtt2.aedifion.io:8884`, TLS.
    AedifionProduction,
    /// `mqtt-dev.aedifion.io:8884`, TLS.
    AedifionDevelopment,
    /// `wss://mqtt2.aedifion.io:9001/mqtt`.
    AedifionProductionWebSocket,
    /// `wss://mqtt-dev.aedifion.io:9001/mqtt`.
    AedifionDevelopmentWebSocket,
    /// A Mosquitto on this machine, `localhost:1883`.
    LocalMosquitto,
    /// The built-in demo broker and building simulator.
    Demo,
    /// An empty generic profile.
    Blank,
}

impl Preset {
    /// Every preset, in the order the UI offers them.
    pub const ALL: [Preset; 7] = [
        Preset::AedifionProduction,
        Preset::AedifionDevelopment,
        Preset::AedifionProductionWebSocket,
        Preset::AedifionDevelopmentWebSocket,
        Preset::LocalMosquitto,
        Preset::Demo,
        Preset::Blank,
    ];

    /// The name shown in the preset chooser (and given to the new profile).
    pub fn label(self) -> &'static str {
        match self {
            Preset::AedifionProduction => "aedifion.io production",
            Preset::AedifionDevelopment => "aedifion.io development",
            Preset::AedifionProductionWebSocket => "aedifion.io production (WebSocket)",
            Preset::AedifionDevelopmentWebSocket => "aedifion.io development (WebSocket)",
            Preset::LocalMosquitto => "Local Mosquitto",
            Preset::Demo => "Demo",
            Preset::Blank => "Blank",
        }
    }

    /// A new profile (fresh id and client id) from this preset.
    pub fn profile(self) -> Profile {
        let base = Profile {
            name: self.label().to_owned(),
            ..Profile::new_with_fresh_ids()
        };
        match self {
            Preset::AedifionProduction => aedifion(base, "mqtt2.aedifion.io", Transport::Tls),
            Preset::AedifionDevelopment => aedifion(base, "mqtt-dev.aedifion.io", Transport::Tls),
            Preset::AedifionProductionWebSocket => {
                aedifion(base, "mqtt2.aedifion.io", Transport::SecureWebSocket)
            }
            Preset::AedifionDevelopmentWebSocket => {
                aedifion(base, "mqtt-dev.aedifion.io", Transport::SecureWebSocket)
            }
            Preset::LocalMosquitto => Profile {
                host: "localhost".into(),
                port: 1883,
                ..base
            },
            Preset::Demo => Profile {
                demo: true,
                host: "127.0.0.1".into(),
                ..base
            },
            Preset::Blank => Profile {
                name: "New profile".into(),
                ..base
            },
        }
    }
}

/// aedifion.io settings: TLS on 8884 (or WebSocket on 9001), keep-alive 60 s, QoS 1, user name
/// required, password in the keychain. Subscriptions follow once the project is entered.
fn aedifion(base: Profile, host: &str, transport: Transport) -> Profile {
    let port = if transport.uses_websocket() {
        9001
    } else {
        8884
    };
    Profile {
        host: host.to_owned(),
        port,
        transport,
        ws_path: DEFAULT_WS_PATH.into(),
        mqtt_version: MqttVersion::V3_1_1,
        keep_alive_secs: DEFAULT_KEEP_ALIVE_SECS,
        password_storage: PasswordStorage::Keychain,
        subscriptions: Vec::new(),
        // Writing to a real building must be a deliberate choice.
        read_only: true,
        ..base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::profile::{ProfileError, Subscription};
    use crate::model::topic::qos::Qos;

    fn errors_of(profile: &Profile) -> Vec<ProfileError> {
        profile.validate().err().unwrap_or_default()
    }
    #[test]
    fn aedifion_presets_use_tls_port_8884_qos_1_keychain_and_need_a_username() {
        let profile = Preset::AedifionProduction.profile();
        assert_eq!(profile.host, "mqtt2.aedifion.io");
        assert_eq!(profile.port, 8884);
        assert_eq!(profile.transport, Transport::Tls);
        assert_eq!(profile.mqtt_version, MqttVersion::V3_1_1);
        assert_eq!(profile.keep_alive_secs, 60);
        assert_eq!(profile.password_storage, PasswordStorage::Keychain);
        let errors = errors_of(&profile);
        assert!(
            errors.contains(&ProfileError::UsernameRequired),
            "{errors:?}"
        );

        let mut ready = Profile {
            username: "me".into(),
            ..profile
        };
        ready.set_aedifion_project("lbg01/mybuilding");
        assert_eq!(
            ready.subscriptions,
            vec![Subscription::new("lbg01/mybuilding/#", Qos::AtLeastOnce)]
        );
        assert_eq!(ready.validate(), Ok(()));

        let dev = Preset::AedifionDevelopment.profile();
        assert_eq!(
            (dev.host.as_str(), dev.port),
            ("mqtt-dev.aedifion.io", 8884)
        );
    }

    #[test]
    fn aedifion_websocket_presets_use_port_9001_and_path_mqtt() {
        for (preset, host) in [
            (Preset::AedifionProductionWebSocket, "mqtt2.aedifion.io"),
            (Preset::AedifionDevelopmentWebSocket, "mqtt-dev.aedifion.io"),
        ] {
            let profile = preset.profile();
            assert_eq!(profile.display_url(), format!("wss://{host}:9001/mqtt"));
        }
    }

    #[test]
    fn local_mosquitto_and_demo_presets_are_valid_as_they_come() {
        let local = Preset::LocalMosquitto.profile();
        assert_eq!(local.display_url(), "mqtt://localhost:1883");
        assert_eq!(local.validate(), Ok(()));
        let demo = Preset::Demo.profile();
        assert!(demo.demo);
        assert_eq!(demo.validate(), Ok(()));
    }

    #[test]
    fn aedifion_presets_start_read_only_and_local_ones_do_not() {
        for preset in Preset::ALL {
            let expected = preset.label().starts_with("aedifion.io");
            assert_eq!(preset.profile().read_only, expected, "{}", preset.label());
        }
    }
}
