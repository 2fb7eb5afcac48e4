//! Builds rumqttc options (TLS, WebSocket, credentials) from a profile. OWNER: mqtt-worker helper.
