#!/usr/bin/env bash
# Runs every test of TopicScope: unit tests, golden vectors, real-broker integration tests
# (Mosquitto and the embedded demo broker, started by the tests on free loopback ports) and the
# headless GUI tests. Installs Mosquitto/Xvfb first where missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Private runtime dir: wgpu/winit and the keychain probe look for one.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
cargo test --locked "$@"
