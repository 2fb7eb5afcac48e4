//! The built-in demo: an in-process MQTT broker and a simulated aedifion building. OWNER: demo helper.
