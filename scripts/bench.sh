#!/usr/bin/env bash
# TopicScope's benchmark: one command, prints a table and writes BENCHMARKS.md.
#
#   scripts/bench.sh            the full run (the issues' loads; about 25 min on 2 cores)
#   scripts/bench.sh --quick    smaller loads (a few minutes), same scenarios
#
# It builds --release, starts Mosquitto on a free loopback port with a generated config, and runs:
#   1. ingest: mosquitto_sub (to a file in /dev/shm: the client-side limit), topicscope headless and
#      the window (under Xvfb, tree expanded and 10 series plotted) on the same loads, one at a
#      time: T topics x N messages, QoS 0 and 1, from `topicscope bench publish`.
#   2. scale: S distinct retained topics loaded into headless and into the window; the window's
#      per-frame CPU time while scrolling the tree and while R msg/s arrive with 10 series plotted.
#   3. soak: headless at a steady rate over many topics; RSS sampled at start, middle and end.
#   4. start-up: the window with --demo: time to the first frame and to the first data.
#   5. drain: each client subscribed, then paused (SIGSTOP) while the broker queues a flood, then
#      resumed: how fast it takes the backlog.
#   6. idle: the demo window for IDLE_SECS (60): the share of a core it uses to show a trickle.
#   7. memory: the window and mqttui's interactive UI at RSS_TOPICS (100,000) topics x 3 messages.
# Peers: mosquitto_sub always; mqttui (its interactive UI under tmux, and its `log` mode) where it
# is found: MQTTUI=/path, else `mqttui` on PATH, else ../shared/peers/mqttui next to the checkout.
# Every count below can be overridden from the environment (MESSAGES=200000 scripts/bench.sh).
# A section is skipped by setting its size to nothing or 0: LOADS="" (ingest), SCALE_TOPICS=0,
# SOAK_SECS=0; start-up runs only with the window in CLIENTS. SOAK_BUDGET_MIB=64 runs the soak with
# another memory budget than the default (512 MiB). TOPICSCOPE_BIN=/path/to/topicscope measures that
# binary instead of building this checkout.
# Needs: cargo, mosquitto + mosquitto_sub, Xvfb + xdotool (for the window), python3, GNU time;
# scripts/install-deps.sh installs the ones missing (Debian/Ubuntu), so one command runs it all.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
scripts/install-deps.sh

# mqttui, the terminal peer, where it can be found.
if [[ -z "${MQTTUI:-}" ]]; then
    if command -v mqttui >/dev/null; then MQTTUI=$(command -v mqttui)
    elif [[ -x "$ROOT/../shared/peers/mqttui" ]]; then MQTTUI=$(cd "$ROOT/../shared/peers" && pwd)/mqttui
    fi
fi
PEERS="mosquitto_sub"
if [[ -n "${MQTTUI:-}" ]]; then
    if command -v tmux >/dev/null; then PEERS="$PEERS mqttui mqttui_log"; else PEERS="$PEERS mqttui_log"; fi
fi

if [[ "${1:-}" == "--quick" ]]; then
    : "${MESSAGES:=100000}" "${LOADS=1000 10000}" "${SCALE_TOPICS:=100000}"
    : "${SOAK_SECS:=30}" "${SCALE_INGEST_SECS:=5}" "${IDLE_SECS:=20}" "${RSS_TOPICS:=10000}"
fi
MESSAGES=${MESSAGES:-1000000}
LOADS=${LOADS-"1000 100000"}
QOS_LEVELS=${QOS_LEVELS:-"0 1"}
CLIENTS=${CLIENTS:-"$PEERS headless gui"}
# mqttui's interactive UI keeps up with a flood over many topics at a few thousand messages a
# second: it is measured at QoS 0 only, so the default run stays under 30 minutes.
MQTTUI_QOS_LEVELS=${MQTTUI_QOS_LEVELS:-0}
DRAIN_MESSAGES=${DRAIN_MESSAGES:-$MESSAGES}
DRAIN_LOADS=${DRAIN_LOADS-"1000 100000"}
DRAIN_CLIENTS=${DRAIN_CLIENTS:-"mosquitto_sub headless${MQTTUI:+ mqttui_log}"}
IDLE_SECS=${IDLE_SECS:-60}
RSS_TOPICS=${RSS_TOPICS:-100000}
SCALE_TOPICS=${SCALE_TOPICS:-1000000}
SCALE_INGEST_RATE=${SCALE_INGEST_RATE:-50000}
SCALE_INGEST_SECS=${SCALE_INGEST_SECS:-10}
SOAK_SECS=${SOAK_SECS:-600}
SOAK_RATE=${SOAK_RATE:-20000}
SOAK_TOPICS=${SOAK_TOPICS:-10000}
SOAK_BUDGET_MIB=${SOAK_BUDGET_MIB:-}
DISPLAY_NUMBER=${DISPLAY_NUMBER:-57}
OUTPUT=${OUTPUT:-BENCHMARKS.md}
# Longest any single client may take to receive one load.
RUN_TIMEOUT_SECS=${RUN_TIMEOUT_SECS:-600}

for tool in mosquitto mosquitto_sub python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench.sh: $tool is needed (scripts/install-deps.sh)" >&2; exit 2; }
done
if [[ " $CLIENTS " == *" gui "* ]] && ! command -v Xvfb >/dev/null; then
    echo "bench.sh: Xvfb not found: the window is left out (install xvfb xdotool)" >&2
    CLIENTS=${CLIENTS//gui/}
fi

# The JSON reading and the report, in Python (written out at start so no quoting is nested).
write_helper() {
    cat > "$1" <<'PYTHON'
import json, sys


def load(path):
    with open(path) as file:
        return json.load(file)


def get(path, expression):
    print(json.dumps(eval(expression, {}, {"d": load(path)})))


def rate(received, publish_path, end_nanos):
    """Messages per second from the publisher's first message to the client having them all."""
    started = load(publish_path)["started_at_nanos"]
    end = int(end_nanos)
    print(int(received) / ((end - started) / 1e9) if end > started else 0)


def scale_headless(path, topics, payload):
    d, n, payload = load(path), int(topics), int(payload)
    grown = d["rss_bytes"] - d["rss_before_bytes"]
    print(json.dumps({"scenario": "scale-headless", "topics": n, "received": d["messages_received"],
        "load_secs": d["first_to_last_secs"], "rss_bytes": d["rss_bytes"], "peak_rss_bytes": d["peak_rss_bytes"],
        "rss_per_topic": grown / n, "beyond_payload_per_topic": grown / n - payload,
        "store_estimate_per_topic": d["bytes_held"] / n, "payload_bytes": payload}))


def scale_gui(path, topics, ingest_rate, publish_path):
    d, p = load(path), load(publish_path)
    print(json.dumps({"scenario": "scale-gui", "topics": int(topics), "received": d["messages_received"],
        "dropped": d["messages_dropped"], "rss_bytes": d["rss_bytes"], "peak_rss_bytes": d["peak_rss_bytes"],
        "frames": d["frame_times"], "ingest_rate": int(ingest_rate),
        "ingest_published_per_sec": p["messages_per_sec"]}))


def soak(path, publish_path, secs, soak_rate, topics, samples):
    d, p = load(path), load(publish_path)
    print(json.dumps({"scenario": "soak", "secs": int(secs), "rate": int(soak_rate), "topics": int(topics),
        "published_per_sec": p["messages_per_sec"], "received": d["messages_received"],
        "dropped": d["messages_dropped"], "rss_samples_kib": json.loads(samples),
        "peak_rss_bytes": d["peak_rss_bytes"], "bytes_held": d["bytes_held"],
        "history_evicted": d["history_evicted"], "budget_bytes": d["memory_budget_bytes"],
        "store_target_bytes": d.get("store_target_bytes"), "rss_limit_bytes": d.get("rss_limit_bytes")}))


def startup(path):
    d = load(path)
    print(json.dumps({"scenario": "startup", "first_frame_secs": d["first_frame_secs"],
        "first_data_frame_secs": d["first_data_frame_secs"]}))


def mib(n):
    return f"{n / 1048576:.0f} MiB"


def ok(flag):
    return "met" if flag else "**missed**"


def report(results_path, output, machine_path, parameters):
    results = [json.loads(line) for line in open(results_path) if line.strip()]
    machine = open(machine_path).read().strip()
    lines = []
    out = lines.append

    def frame_row(label, frames, phase):
        f = (frames or {}).get(phase)
        if not f:
            return
        out(f"| {label} | {f['frames']:,} | {f['cpu']['p50_ms']:.2f} | {f['cpu']['p99_ms']:.2f} | "
            f"{f['wall']['p99_ms']:.2f} | p99 CPU ≤ 8 ms: {ok(f['cpu']['p99_ms'] <= 8)} |")

    out("## Machine")
    out("")
    for line in machine.splitlines():
        out(f"- {line}")
    out(f"- Parameters: `{parameters}`")
    out("")
    out("## 1. Ingest (one client at a time, same publisher, same broker)")
    out("")
    out("msg/s: N divided by the time from the publisher's first message to the moment the client had all N "
        "(mosquitto_sub: its exit after `-C N`, output to /dev/null; TopicScope: the last of the N applied to "
        "the store). CPU: user + system seconds of the client process. Ratio: client / mosquitto_sub at the "
        "same load. While the publisher (and the broker) is slower than the client, every client shows the "
        "publisher's rate.")
    out("")
    out("| topics | QoS | client | received | dropped | msg/s | ratio | CPU s per M | CPU ratio | peak RSS | target |")
    out("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    ingest = [r for r in results if r["scenario"] == "ingest"]
    for r in ingest:
        base = next((b for b in ingest if b["client"] == "mosquitto_sub" and b["topics"] == r["topics"]
                     and b["qos"] == r["qos"]), None)
        ratio = r["msg_per_sec"] / base["msg_per_sec"] if base and base["msg_per_sec"] else None
        per_million = r["cpu_secs"] / (r["messages"] / 1e6) if r["messages"] else 0
        base_per_million = base["cpu_secs"] / (base["messages"] / 1e6) if base and base["messages"] else 0
        cpu_ratio = per_million / base_per_million if base_per_million else None
        target = ""
        complete = r["received"] == r["messages"]
        if r["client"] == "headless" and ratio is not None:
            cpu_ok = cpu_ratio is not None and cpu_ratio <= 1.2
            target = f"≥ 1.0 and CPU ≤ 1.2×: {ok(ratio >= 1.0 and complete)} / {ok(cpu_ok)}"
        if r["client"] == "gui" and ratio is not None:
            target = f"≥ 0.9, 0 dropped: {ok(ratio >= 0.9 and r['dropped'] == 0 and complete)}"
        if r["client"].startswith("mqttui"):
            target = "peer"
        ratio_text = "" if ratio is None else f"{ratio:.2f}"
        cpu_ratio_text = "" if cpu_ratio is None else f"{cpu_ratio:.2f}"
        out(f"| {r['topics']:,} | {r['qos']} | {r['client']} | {r['received']:,} | {r['dropped']:,} | "
            f"{r['msg_per_sec']:,.0f} | {ratio_text} | {per_million:.2f} | {cpu_ratio_text} | "
            f"{r['peak_rss_kib'] // 1024} MiB | {target} |")
    out("")
    out("Publisher (topicscope bench publish) rate per run, msg/s: " + ", ".join(
        f"{r['client']} {r['topics']:,}/QoS {r['qos']}: {r['published_per_sec']:,.0f}" for r in ingest))
    out("")
    gui_frames = [r for r in ingest if r["client"] == "gui" and r.get("frames")]
    if gui_frames:
        out("Window frame times during ingest (UI pass = drain + panels, per frame, measured in-process):")
        out("")
        out("| load | frames | CPU p50 ms | CPU p99 ms | wall p99 ms | target |")
        out("|---|---:|---:|---:|---:|---|")
        for r in gui_frames:
            frame_row(f"{r['topics']:,} topics, QoS {r['qos']}", r["frames"], "start")
        out("")
    out("## 2. Scale")
    out("")
    for r in results:
        if r["scenario"] == "scale-headless":
            out(f"Headless, {r['topics']:,} distinct retained topics: received {r['received']:,}, loaded in "
                f"{r['load_secs']:.2f} s, RSS {mib(r['rss_bytes'])} (peak {mib(r['peak_rss_bytes'])}).")
            out(f"RSS growth per topic {r['rss_per_topic']:.0f} B; beyond the {r['payload_bytes']} payload bytes: "
                f"**{r['beyond_payload_per_topic']:.0f} B per topic** (target ≤ 250: "
                f"{ok(r['beyond_payload_per_topic'] <= 250)}); the store's own estimate: "
                f"{r['store_estimate_per_topic']:.0f} B per topic.")
            out("")
        if r["scenario"] == "scale-gui":
            out(f"Window, the same {r['topics']:,} topics: received {r['received']:,}, dropped {r['dropped']:,}, "
                f"RSS {mib(r['rss_bytes'])} (peak {mib(r['peak_rss_bytes'])}); the ingest phase was published at "
                f"{r['ingest_published_per_sec']:,.0f} msg/s (asked {r['ingest_rate']:,}) with 10 series plotted.")
            out("")
            out("| phase | frames | CPU p50 ms | CPU p99 ms | wall p99 ms | target |")
            out("|---|---:|---:|---:|---:|---|")
            frame_row("loading the topics", r["frames"], "load")
            frame_row("scrolling the tree", r["frames"], "scroll")
            frame_row(f"ingesting {r['ingest_rate']:,} msg/s, 10 series plotted", r["frames"], "ingest")
            out("")
    out("## 3. Soak")
    out("")
    for r in results:
        if r["scenario"] == "soak":
            samples = r["rss_samples_kib"]
            start, middle, end = samples[0][1], samples[len(samples) // 2][1], samples[-1][1]
            out(f"{r['secs']} s at {r['rate']:,} msg/s (published {r['published_per_sec']:,.0f}) over {r['topics']:,} "
                f"topics, headless: received {r['received']:,}, dropped {r['dropped']:,}, history evicted "
                f"{r['history_evicted']:,}.")
            out(f"RSS start / middle / end: {start // 1024} / {middle // 1024} / {end // 1024} MiB; peak "
                f"{mib(r['peak_rss_bytes'])}; the store's estimate at the end {mib(r['bytes_held'])} of a "
                f"{mib(r['budget_bytes'])} budget (target, peak RSS within the budget: "
                f"{ok(r['peak_rss_bytes'] <= r['budget_bytes'])}).")
            if r.get("store_target_bytes"):
                out(f"The process's RSS was over its share of the budget ({mib(r['rss_limit_bytes'])}, the rest is "
                    f"room for the inbox): the store was held to {mib(r['store_target_bytes'])}.")
            out("RSS samples (s: KiB): " + ", ".join(f"{s}: {k:,}" for s, k in samples))
            out("")
    starts = [r for r in results if r["scenario"] == "startup"]
    if starts:
        out("## 4. Start-up (--demo)")
        out("")
        out("| run | first frame | demo data visible | target ≤ 300 ms / ≤ 1 s |")
        out("|---:|---:|---:|---|")
        for i, r in enumerate(starts, 1):
            ff, fd = r["first_frame_secs"], r["first_data_frame_secs"]
            ff_text = "" if ff is None else f"{ff * 1000:.0f} ms"
            fd_text = "" if fd is None else f"{fd * 1000:.0f} ms"
            out(f"| {i} | {ff_text} | {fd_text} | {ok(ff is not None and ff <= 0.3)} / "
                f"{ok(fd is not None and fd <= 1.0)} |")
        out("")
        out("From process start (Linux start time, 10 ms resolution) to the end of the first frame's UI pass, "
            "and of the first frame with a topic in the store.")
        out("")
    drains = [r for r in results if r["scenario"] == "drain"]
    if drains:
        out("## 5. Draining a queued backlog")
        out("")
        out("Each client subscribed, was paused (SIGSTOP) while the broker queued the flood (QoS 0), then "
            "resumed: messages per second from the resume to the last message taken.")
        out("")
        out("| topics | client | received | msg/s | ratio to mosquitto_sub | target |")
        out("|---:|---|---:|---:|---:|---|")
        for r in drains:
            base = next((b for b in drains if b["client"] == "mosquitto_sub" and b["topics"] == r["topics"]), None)
            ratio = r["msg_per_sec"] / base["msg_per_sec"] if base and base["msg_per_sec"] else None
            target = ""
            if r["client"] == "headless" and ratio is not None:
                target = f"≥ 1.5 (goal 2): {ok(ratio >= 1.5 and r['received'] == r['messages'])}"
            elif r["client"].startswith("mqttui"):
                target = "peer"
            ratio_text = "" if ratio is None else f"{ratio:.2f}"
            out(f"| {r['topics']:,} | {r['client']} | {r['received']:,} | {r['msg_per_sec']:,.0f} | {ratio_text} | {target} |")
        out("")
    for r in results:
        if r["scenario"] == "idle":
            share = r["cpu_secs"] / r["secs"] * 100
            out("## 6. Idle: the demo window")
            out("")
            out(f"The built-in demo (about 110 msg/s) in the window under Xvfb for {r['secs']} s, after 10 s of "
                f"start-up: {r['cpu_secs']:.2f} CPU s, **{share:.1f} % of a core** (target ≤ 20 %: {ok(share <= 20)}).")
            out("")
        if r["scenario"] == "memory":
            out(f"## 7. Memory at {r['topics']:,} topics × 3 messages")
            out("")
            mq = r.get("mqttui_rss_bytes")
            verdict = f"target ≤ mqttui's: {ok(r['gui_rss_bytes'] <= mq)}" if mq else "mqttui not measured"
            out(f"Window RSS {mib(r['gui_rss_bytes'])} ({r['gui_received']:,} received)"
                + (f"; mqttui's interactive UI {mib(mq)} ({r['mqttui_received']:,} received)" if mq else "")
                + f" ({verdict}).")
            out("")
    table = "\n".join(lines)
    print(table)
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    try:
        document = open(output).read()
    except FileNotFoundError:
        document = f"# TopicScope benchmarks\n\n{begin}\n{end}\n"
    if begin not in document:
        document += f"\n{begin}\n{end}\n"
    head, rest = document.split(begin, 1)
    tail = rest.split(end, 1)[1] if end in rest else "\n"
    with open(output, "w") as file:
        file.write(f"{head}{begin}\n<!-- Written by scripts/bench.sh; edit outside these markers. -->\n\n"
                   f"{table}\n{end}{tail}")


COMMANDS = {"get": get, "rate": rate, "scale-headless": scale_headless, "scale-gui": scale_gui,
            "soak": soak, "startup": startup, "report": report}
COMMANDS[sys.argv[1]](*sys.argv[2:])
PYTHON
}

if [[ -n "${TOPICSCOPE_BIN:-}" ]]; then
    # Another build (e.g. a copy of an older one, to compare before and after a change).
    BIN=$TOPICSCOPE_BIN
    echo "== using $BIN"
else
    echo "== building (release)"
    cargo build --release --quiet
    BIN="$ROOT/target/release/topicscope"
fi
MOSQUITTO=$(command -v mosquitto)

WORK=$(mktemp -d /tmp/topicscope-bench.XXXXXX)
HELPER="$WORK/helper.py"
write_helper "$HELPER"
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK" /dev/shm/topicscope-bench-sub.$$
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------- broker
PORT=$(free_port)
cat > "$WORK/mosquitto.conf" <<EOF
# Generated by scripts/bench.sh: anonymous loopback listener, nothing persisted, and no broker-side
# queue limit, so every client can receive every message (the figures then measure the client).
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages 100
log_dest file $WORK/mosquitto.log
EOF
if [[ $(id -u) == 0 ]]; then echo "user root" >> "$WORK/mosquitto.conf"; fi
"$MOSQUITTO" -c "$WORK/mosquitto.conf" &
BROKER_PID=$!
PIDS+=("$BROKER_PID")
URL="mqtt://127.0.0.1:$PORT"
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
echo "== mosquitto on port $PORT"

# ---------------------------------------------------------------- display for the window
if [[ " $CLIENTS " == *" gui "* ]]; then
    Xvfb ":$DISPLAY_NUMBER" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
    PIDS+=("$!")
    export DISPLAY=":$DISPLAY_NUMBER"
    XDG_RUNTIME_DIR=$(mktemp -d)
    export XDG_RUNTIME_DIR
    sleep 1
fi

# ---------------------------------------------------------------- helpers
record() { echo "$1" >> "$RESULTS"; }

wait_file() { # path timeout_secs
    local deadline=$((SECONDS + $2))
    while [[ ! -e "$1" ]]; do
        (( SECONDS < deadline )) || { echo "bench.sh: $1 did not appear" >&2; return 1; }
        sleep 0.05
    done
}

wait_pid() { # pid timeout_secs
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        if (( SECONDS >= deadline )); then kill "$1" 2>/dev/null || true; echo "bench.sh: timed out" >&2; return 1; fi
        sleep 0.05
    done
    wait "$1" 2>/dev/null || true
}

json() { python3 "$HELPER" get "$@"; }

# Starts a counter reading lines from the FIFO `pipe` (made here): after `n` lines it writes the
# time (ns) to `out` and exits. COUNTER_PID is its process.
count_lines_then_stamp() { # n pipe out
    mkfifo "$2"
    python3 -c "import sys,time
n=int(sys.argv[1])
for i, _ in enumerate(sys.stdin, 1):
    if i >= n:
        print(time.time_ns()); break" "$1" < "$2" > "$3" &
    COUNTER_PID=$!
    PIDS+=("$COUNTER_PID")
}

# mqttui's interactive UI in a detached tmux session; MQTTUI_PANE_PID is its process.
mqttui_start() { # dir qos [filter]
    local session="bench-mqttui-$$"
    tmux kill-session -t "$session" 2>/dev/null || true
    tmux new-session -d -s "$session" -x 200 -y 50 "exec $MQTTUI -b $URL --qos $2 '${3:-lbg01/bench/#}'"
    MQTTUI_PANE_PID=$(tmux list-panes -t "$session" -F '#{pane_pid}')
    MQTTUI_SESSION=$session
}

# The number of messages mqttui's title reports (it redraws every 500 ms).
mqttui_count() {
    tmux capture-pane -p -t "$MQTTUI_SESSION" 2>/dev/null \
        | sed -n 's/.*Topics ([0-9,]*, \([0-9,]*\) messages).*/\1/p' | head -1 | tr -d ,
}

# Waits until mqttui shows N messages (or the timeout), notes the moment, its CPU and peak RSS,
# and ends it; writes $dir/end and $dir/time like the other clients.
mqttui_wait() { # dir messages timeout_secs
    local dir=$1 want=$2 deadline=$((SECONDS + $3)) seen=0
    while (( SECONDS < deadline )); do
        seen=$(mqttui_count); seen=${seen:-0}
        if (( seen >= want )); then date +%s%N > "$dir/end"; break; fi
        sleep 0.1
    done
    local ticks=(0 0) hwm_kib=0
    if [[ -r "/proc/$MQTTUI_PANE_PID/stat" ]]; then
        read -r -a fields < <(sed 's/.*) //' "/proc/$MQTTUI_PANE_PID/stat")
        ticks=("${fields[11]}" "${fields[12]}")
        hwm_kib=$(awk '/VmHWM/ {print $2}' "/proc/$MQTTUI_PANE_PID/status")
    fi
    echo "0 $(python3 -c "print(${ticks[0]}/100)") $(python3 -c "print(${ticks[1]}/100)") ${hwm_kib:-0}" > "$dir/time"
    echo "$seen" > "$dir/seen"
    tmux kill-session -t "$MQTTUI_SESSION" 2>/dev/null || true
}

# A profile file for the window: the broker, one subscription at the given QoS.
gui_config() { # dir qos
    mkdir -p "$1"
    cat > "$1/profiles.toml" <<EOF
version = 1

[[profiles]]
id = "bench"
name = "bench"
host = "127.0.0.1"
port = $PORT
subscriptions = [{ filter = "lbg01/bench/#", qos = $2 }]
EOF
}

publish() { # topics count qos [extra args]
    local topics=$1 count=$2 qos=$3
    shift 3
    "$BIN" bench publish --url "$URL" --topics "$topics" --count "$count" --qos "$qos" \
        --stats-json "$WORK/publish.json" "$@" > "$WORK/publish.txt"
}

# ---------------------------------------------------------------- 1. ingest
run_ingest() { # client topics qos
    local client=$1 topics=$2 qos=$3 dir="$WORK/$1-$2-$3"
    mkdir -p "$dir"
    case $client in
    mosquitto_sub)
        # Output to /dev/null; the wrapper notes the moment it exits after -C N messages.
        sh -c '/usr/bin/time -f "%e %U %S %M" -o "$1/time" timeout "$2" \
                mosquitto_sub -h 127.0.0.1 -p "$3" -t "lbg01/bench/#" -q "$4" -C "$5" > /dev/null \
                && date +%s%N > "$1/end"' sh "$dir" "$RUN_TIMEOUT_SECS" "$PORT" "$qos" "$MESSAGES" &
        local pid=$!
        sleep 1 # mosquitto_sub has no "subscribed" signal
        ;;
    headless)
        /usr/bin/time -f '%e %U %S %M' -o "$dir/time" \
            "$BIN" headless --url "$URL" -s 'lbg01/bench/#' --qos "$qos" --count "$MESSAGES" \
            --duration "$RUN_TIMEOUT_SECS" --stats-json "$dir/stats.json" --ready-file "$dir/ready" 2>"$dir/stderr" &
        local pid=$!
        wait_file "$dir/ready" 30
        ;;
    mqttui_log)
        # A print-only subscriber like mosquitto_sub: one line per message; the counter notes the
        # moment the last one arrived, then mqttui is ended.
        count_lines_then_stamp "$MESSAGES" "$dir/pipe" "$dir/end"
        local pid=$COUNTER_PID
        /usr/bin/time -f '%e %U %S %M' -o "$dir/time" \
            "$MQTTUI" -b "$URL" log --qos "$qos" "lbg01/bench/#" > "$dir/pipe" 2>/dev/null &
        local time_pid=$!
        PIDS+=("$time_pid")
        sleep 1 # no "subscribed" signal
        ;;
    mqttui)
        # Its interactive UI in a terminal (tmux); its title says `Topics (T, N messages)`.
        mqttui_start "$dir" "$qos"
        local pid=$MQTTUI_PANE_PID
        sleep 1
        ;;
    gui)
        gui_config "$dir/config" "$qos"
        TOPICSCOPE_BENCH_EXIT_AFTER=$MESSAGES TOPICSCOPE_BENCH_STATS="$dir/stats.json" \
            TOPICSCOPE_BENCH_READY="$dir/ready" TOPICSCOPE_BENCH_PLOT=10 TOPICSCOPE_BENCH_EXPAND=lbg01/bench \
            /usr/bin/time -f '%e %U %S %M' -o "$dir/time" \
            "$BIN" --config-dir "$dir/config" --profile bench 2>"$dir/stderr" &
        local pid=$!
        wait_file "$dir/ready" 60
        ;;
    esac
    publish "$topics" "$MESSAGES" "$qos"
    if [[ $client == mqttui ]]; then
        mqttui_wait "$dir" "$MESSAGES" "$RUN_TIMEOUT_SECS"
    else
        wait_pid "$pid" "$RUN_TIMEOUT_SECS" || true
    fi
    if [[ $client == mqttui_log ]]; then
        pkill -P "$time_pid" 2>/dev/null || true
        wait "$time_pid" 2>/dev/null || true
    fi
    local rate received dropped=0 frames="null" user=0 sys=0 max_kib=0
    # GNU time writes a "terminated by signal" line first when mqttui was ended.
    read -r _ user sys max_kib < <(grep -E '^[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+$' "$dir/time" 2>/dev/null | tail -1) || true
    user=${user:-0} sys=${sys:-0} max_kib=${max_kib:-0}
    case $client in
    mosquitto_sub | mqttui_log | mqttui)
        if [[ -s "$dir/end" ]]; then received=$MESSAGES; else received=0; echo 0 > "$dir/end"; fi
        if [[ $client == mqttui ]]; then received=$(cat "$dir/seen"); fi
        rate=$(python3 "$HELPER" rate "$received" "$WORK/publish.json" "$(cat "$dir/end")")
        ;;
    headless | gui)
        received=$(json "$dir/stats.json" 'd["messages_received"]')
        dropped=$(json "$dir/stats.json" 'd["messages_dropped"]')
        rate=$(python3 "$HELPER" rate "$received" "$WORK/publish.json" "$(json "$dir/stats.json" 'd["all_processed_at_nanos"] or 0')")
        if [[ $client == gui ]]; then frames=$(json "$dir/stats.json" 'd["frame_times"]'); fi
        ;;
    esac
    local published_rate
    published_rate=$(json "$WORK/publish.json" 'd["messages_per_sec"]')
    record "{\"scenario\":\"ingest\",\"client\":\"$client\",\"topics\":$topics,\"qos\":$qos,\"messages\":$MESSAGES,\"received\":$received,\"dropped\":$dropped,\"msg_per_sec\":$rate,\"cpu_secs\":$(python3 -c "print($user+$sys)"),\"peak_rss_kib\":$max_kib,\"published_per_sec\":$published_rate,\"frames\":$frames}"
    printf '   %-14s %7s topics QoS %s: %9.0f msg/s, %s received, %s dropped, CPU %.1f s, peak RSS %d MiB\n' \
        "$client" "$topics" "$qos" "$rate" "$received" "$dropped" "$(python3 -c "print($user+$sys)")" $((max_kib / 1024))
}

echo "== 1. ingest: $MESSAGES messages per run; loads: $LOADS topics; QoS: $QOS_LEVELS"
for topics in $LOADS; do
    for qos in $QOS_LEVELS; do
        for client in $CLIENTS; do
            if [[ $client == mqttui && " $MQTTUI_QOS_LEVELS " != *" $qos "* ]]; then continue; fi
            run_ingest "$client" "$topics" "$qos"
        done
    done
done

# ---------------------------------------------------------------- 2. scale
if (( SCALE_TOPICS > 0 )); then
echo "== 2. scale: $SCALE_TOPICS retained topics"
dir="$WORK/scale"
mkdir -p "$dir"
publish "$SCALE_TOPICS" "$SCALE_TOPICS" 1 --retain
/usr/bin/time -f '%e %U %S %M' -o "$dir/time" \
    "$BIN" headless --url "$URL" -s 'lbg01/bench/#' --count "$SCALE_TOPICS" --duration "$RUN_TIMEOUT_SECS" \
    --stats-json "$dir/headless.json" > /dev/null
# A typical generated payload: "bench_dp_123456 value=12.3 1700000000000000000".
payload_bytes=46
record "$(python3 "$HELPER" scale-headless "$dir/headless.json" "$SCALE_TOPICS" "$payload_bytes")"
tail -n 1 "$RESULTS"

if [[ " $CLIENTS " == *" gui "* ]]; then
    gui_config "$dir/config" 0
    echo load > "$dir/phase"
    TOPICSCOPE_BENCH_STATS="$dir/gui.json" TOPICSCOPE_BENCH_READY="$dir/ready" TOPICSCOPE_BENCH_PLOT=10 \
        TOPICSCOPE_BENCH_EXPAND=lbg01/bench TOPICSCOPE_BENCH_PHASE_FILE="$dir/phase" \
        "$BIN" --config-dir "$dir/config" --profile bench 2>"$dir/stderr" &
    gui_pid=$!
    PIDS+=("$gui_pid")
    deadline=$((SECONDS + RUN_TIMEOUT_SECS))
    until [[ -e "$dir/gui.json" ]] && (( $(json "$dir/gui.json" 'd["messages_received"]') >= SCALE_TOPICS )) \
        && (( $(json "$dir/gui.json" 'd["messages_pending"]') == 0 )); do
        (( SECONDS < deadline )) || { echo "bench.sh: the window did not load the topics" >&2; break; }
        sleep 1
    done
    sleep 2
    echo scroll > "$dir/phase"
    sleep 1.5
    if command -v xdotool >/dev/null; then
        xdotool mousemove 250 450
        for _ in $(seq 6); do
            xdotool click --repeat 50 --delay 15 5
            xdotool key --repeat 10 --delay 30 Page_Down
        done
    fi
    echo ingest > "$dir/phase"
    sleep 1.5
    publish "$SCALE_TOPICS" $((SCALE_INGEST_RATE * SCALE_INGEST_SECS)) 0 --rate "$SCALE_INGEST_RATE"
    sleep 2
    echo exit > "$dir/phase"
    wait_pid "$gui_pid" 60 || true
    record "$(python3 "$HELPER" scale-gui "$dir/gui.json" "$SCALE_TOPICS" "$SCALE_INGEST_RATE" "$WORK/publish.json")"
    tail -n 1 "$RESULTS"
fi
fi

# ---------------------------------------------------------------- 3. soak
if (( SOAK_SECS > 0 )); then
echo "== 3. soak: $SOAK_SECS s at $SOAK_RATE msg/s over $SOAK_TOPICS topics${SOAK_BUDGET_MIB:+, budget $SOAK_BUDGET_MIB MiB}"
dir="$WORK/soak"
mkdir -p "$dir"
"$BIN" headless --url "$URL" -s 'lbg01/soak/#' --duration $((SOAK_SECS + 5)) \
    ${SOAK_BUDGET_MIB:+--memory-budget "$SOAK_BUDGET_MIB"} \
    --stats-json "$dir/stats.json" --ready-file "$dir/ready" > /dev/null 2>"$dir/stderr" &
soak_pid=$!
PIDS+=("$soak_pid")
wait_file "$dir/ready" 30
"$BIN" bench publish --url "$URL" --prefix lbg01/soak --topics "$SOAK_TOPICS" \
    --count $((SOAK_RATE * SOAK_SECS)) --rate "$SOAK_RATE" --stats-json "$dir/publish.json" > /dev/null &
pub_pid=$!
PIDS+=("$pub_pid")
samples=()
soak_start=$SECONDS
for i in $(seq 0 10); do
    target=$((SOAK_SECS * i / 10))
    while (( SECONDS - soak_start < target )); do sleep 0.5; done
    if (( i == 0 )); then sleep 1; fi
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$soak_pid/status" 2>/dev/null || echo 0)
    samples+=("[$target,${rss:-0}]")
done
wait_pid "$pub_pid" $((SOAK_SECS + 60)) || true
wait_pid "$soak_pid" 60 || true
record "$(python3 "$HELPER" soak "$dir/stats.json" "$dir/publish.json" "$SOAK_SECS" "$SOAK_RATE" "$SOAK_TOPICS" "[$(IFS=,; echo "${samples[*]}")]")"
tail -n 1 "$RESULTS"
fi

# ---------------------------------------------------------------- 4. start-up
if [[ " $CLIENTS " == *" gui "* ]]; then
    echo "== 4. start-up with --demo"
    dir="$WORK/startup"
    mkdir -p "$dir/config"
    for attempt in 1 2 3; do
        echo run > "$dir/phase"
        TOPICSCOPE_BENCH_STATS="$dir/gui-$attempt.json" TOPICSCOPE_BENCH_PHASE_FILE="$dir/phase" \
            "$BIN" --config-dir "$dir/config" --demo 2>"$dir/stderr" &
        gui_pid=$!
        PIDS+=("$gui_pid")
        sleep 4
        echo exit > "$dir/phase"
        wait_pid "$gui_pid" 30 || true
        record "$(python3 "$HELPER" startup "$dir/gui-$attempt.json")"
        tail -n 1 "$RESULTS"
    done
fi

# ---------------------------------------------------------------- 5. drain
# Each client subscribes, is paused (SIGSTOP) while the flood is published and queued by the
# broker (no queue limit in this broker's config), then resumed: the rate from SIGCONT to the
# last message taken. QoS 0, so the broker's in-flight window does not pace the drain.
run_drain() { # client topics
    local client=$1 topics=$2 dir="$WORK/drain-$1-$2" pid stop_pid end=0 received=0
    mkdir -p "$dir"
    case $client in
    mosquitto_sub)
        mosquitto_sub -h 127.0.0.1 -p "$PORT" -t "lbg01/bench/#" -q 0 -C "$DRAIN_MESSAGES" > /dev/null &
        pid=$!; stop_pid=$pid
        sleep 1
        ;;
    headless)
        "$BIN" headless --url "$URL" -s 'lbg01/bench/#' --qos 0 --count "$DRAIN_MESSAGES" \
            --duration "$RUN_TIMEOUT_SECS" --stats-json "$dir/stats.json" --ready-file "$dir/ready" > /dev/null 2>"$dir/stderr" &
        pid=$!; stop_pid=$pid
        wait_file "$dir/ready" 30
        ;;
    mqttui_log)
        count_lines_then_stamp "$DRAIN_MESSAGES" "$dir/pipe" "$dir/end"
        pid=$COUNTER_PID
        "$MQTTUI" -b "$URL" log --qos 0 "lbg01/bench/#" > "$dir/pipe" 2>/dev/null &
        stop_pid=$!
        PIDS+=("$stop_pid")
        sleep 1
        ;;
    esac
    PIDS+=("$pid")
    kill -STOP "$stop_pid"
    publish "$topics" "$DRAIN_MESSAGES" 0
    sleep 1
    local resumed
    resumed=$(date +%s%N)
    kill -CONT "$stop_pid"
    case $client in
    mosquitto_sub)
        local deadline=$((SECONDS + RUN_TIMEOUT_SECS))
        while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.01; done
        end=$(date +%s%N)
        if wait "$pid"; then received=$DRAIN_MESSAGES; fi
        ;;
    headless)
        wait_pid "$pid" "$RUN_TIMEOUT_SECS" || true
        received=$(json "$dir/stats.json" 'd["messages_received"]')
        end=$(json "$dir/stats.json" 'd["all_processed_at_nanos"] or 0')
        ;;
    mqttui_log)
        wait_pid "$pid" "$RUN_TIMEOUT_SECS" || true
        kill "$stop_pid" 2>/dev/null || true
        if [[ -s "$dir/end" ]]; then end=$(cat "$dir/end"); received=$DRAIN_MESSAGES; fi
        ;;
    esac
    local rate
    rate=$(python3 -c "print($received / (($end - $resumed) / 1e9) if $end > $resumed else 0)")
    record "{\"scenario\":\"drain\",\"client\":\"$client\",\"topics\":$topics,\"messages\":$DRAIN_MESSAGES,\"received\":$received,\"msg_per_sec\":$rate}"
    printf '   %-14s %7s topics: %9.0f msg/s draining, %s received\n' "$client" "$topics" "$rate" "$received"
}

if [[ -n "$DRAIN_LOADS" ]]; then
    echo "== 5. drain: $DRAIN_MESSAGES queued messages; loads: $DRAIN_LOADS topics"
    for topics in $DRAIN_LOADS; do
        for client in $DRAIN_CLIENTS; do
            run_drain "$client" "$topics"
        done
    done
fi

# ---------------------------------------------------------------- 6. idle
if [[ " $CLIENTS " == *" gui "* ]] && (( IDLE_SECS > 0 )); then
    echo "== 6. idle: the demo window for $IDLE_SECS s"
    dir="$WORK/idle"
    mkdir -p "$dir/config"
    "$BIN" --config-dir "$dir/config" --demo 2>"$dir/stderr" &
    idle_pid=$!
    PIDS+=("$idle_pid")
    sleep 10 # start-up and the demo's first burst are not idle
    cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
    before=$(cpu_ticks "$idle_pid")
    sleep "$IDLE_SECS"
    after=$(cpu_ticks "$idle_pid")
    kill "$idle_pid" 2>/dev/null || true
    wait "$idle_pid" 2>/dev/null || true
    record "{\"scenario\":\"idle\",\"secs\":$IDLE_SECS,\"cpu_secs\":$(python3 -c "print(($after - $before) / 100)")}"
    tail -n 1 "$RESULTS"
fi

# ---------------------------------------------------------------- 7. memory
if [[ " $CLIENTS " == *" gui "* ]] && (( RSS_TOPICS > 0 )); then
    echo "== 7. memory: $RSS_TOPICS topics x 3 messages"
    dir="$WORK/memory"
    mkdir -p "$dir"
    count=$((RSS_TOPICS * 3))
    gui_config "$dir/config" 0
    TOPICSCOPE_BENCH_EXIT_AFTER=$count TOPICSCOPE_BENCH_STATS="$dir/gui.json" TOPICSCOPE_BENCH_READY="$dir/ready" \
        TOPICSCOPE_BENCH_EXPAND=lbg01/bench "$BIN" --config-dir "$dir/config" --profile bench 2>"$dir/stderr" &
    gui_pid=$!
    PIDS+=("$gui_pid")
    wait_file "$dir/ready" 60
    publish "$RSS_TOPICS" "$count" 0
    wait_pid "$gui_pid" "$RUN_TIMEOUT_SECS" || true
    gui_rss=$(json "$dir/gui.json" 'd["rss_bytes"]')
    gui_received=$(json "$dir/gui.json" 'd["messages_received"]')
    mqttui_rss=null mqttui_seen=null
    if [[ " $CLIENTS " == *" mqttui "* ]]; then
        mkdir -p "$dir/mqttui"
        mqttui_start "$dir/mqttui" 0
        sleep 1
        publish "$RSS_TOPICS" "$count" 0
        deadline=$((SECONDS + RUN_TIMEOUT_SECS))
        until (( $(mqttui_count || echo 0) >= count )) || (( SECONDS >= deadline )); do sleep 0.2; done
        mqttui_seen=$(mqttui_count); mqttui_seen=${mqttui_seen:-0}
        mqttui_rss=$(( $(awk '/VmRSS/ {print $2}' "/proc/$MQTTUI_PANE_PID/status") * 1024 ))
        tmux kill-session -t "$MQTTUI_SESSION" 2>/dev/null || true
    fi
    record "{\"scenario\":\"memory\",\"topics\":$RSS_TOPICS,\"messages\":$count,\"gui_received\":$gui_received,\"gui_rss_bytes\":$gui_rss,\"mqttui_received\":$mqttui_seen,\"mqttui_rss_bytes\":$mqttui_rss}"
    tail -n 1 "$RESULTS"
fi

# ---------------------------------------------------------------- report
MACHINE="$WORK/machine.txt"
{
    echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores online"
    echo "Memory: $(free -h | awk '/^Mem:/ {print $2}') total"
    echo "Kernel: $(uname -sr)"
    echo "Rust: $(rustc -V)"
    echo "Mosquitto: $("$MOSQUITTO" -h 2>/dev/null | head -1)"
    if [[ -n "${MQTTUI:-}" ]]; then echo "mqttui: $("$MQTTUI" --version) ($MQTTUI)"; else echo "mqttui: not found, not measured"; fi
    echo "TopicScope: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
} > "$MACHINE"
python3 "$HELPER" report "$RESULTS" "$OUTPUT" "$MACHINE" \
    "MESSAGES=$MESSAGES LOADS='$LOADS' QOS_LEVELS='$QOS_LEVELS' CLIENTS='$CLIENTS' DRAIN_MESSAGES=$DRAIN_MESSAGES DRAIN_LOADS='$DRAIN_LOADS' IDLE_SECS=$IDLE_SECS RSS_TOPICS=$RSS_TOPICS SCALE_TOPICS=$SCALE_TOPICS SCALE_INGEST_RATE=$SCALE_INGEST_RATE SCALE_INGEST_SECS=$SCALE_INGEST_SECS SOAK_SECS=$SOAK_SECS SOAK_RATE=$SOAK_RATE SOAK_TOPICS=$SOAK_TOPICS${SOAK_BUDGET_MIB:+ SOAK_BUDGET_MIB=$SOAK_BUDGET_MIB}"
# The raw results go next to the report (target/ for BENCHMARKS.md), so a trial run with
# OUTPUT=/tmp/x.md leaves the last full run's results alone.
RAW="$ROOT/target/bench-results.jsonl"
if [[ "$OUTPUT" != BENCHMARKS.md ]]; then RAW="${OUTPUT%.md}-results.jsonl"; fi
cp "$RESULTS" "$RAW"
echo "== wrote $OUTPUT (raw results: $RAW)"
