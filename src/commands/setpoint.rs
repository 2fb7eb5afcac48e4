//! `topicscope setpoint`: send a validated NEWSPT to `CONTROLS/<lbg>/<project>`, wait for the
//! edge device's ACKSPT, print the final state as JSON.

use std::io::{BufRead as _, Write as _};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::model::time::now_nanos;
use crate::model::write::publish::WriteKind;
use crate::model::write::setpoint::{
    ComposedWrite, DEFAULT_PRIORITY, SetpointDraft, ValueKind, describe_errors, new_reference,
};
use crate::model::write::setpoint_tracker::{RequestState, SetpointTracker, TrackedRequest};

use super::publish::{CommandError, EXIT_FAILED, Target, Writer};

/// Exit code: sent without `--acknowledge`, so the result is unknown.
pub const EXIT_UNCONFIRMED: u8 = 4;
const POLL: Duration = Duration::from_millis(20);

/// Options of `topicscope setpoint`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(
    after_help = "Prints the final state as JSON: written, validated (dry run), failed \
(with the edge device's message) or timeout. Exit codes: 0 written (or validated, for a dry run); \
1 failed, timeout, not sent or cancelled; 2 invalid input (nothing sent); 3 the profile is \
read-only; 4 sent without --acknowledge (result unknown)."
)]
pub struct SetpointArgs {
    #[command(flatten)]
    pub target: Target,
    /// The aedifion project as LBG/HANDLE, e.g. lbg01/demo_building.
    #[arg(long, value_name = "LBG/HANDLE")]
    pub project: String,
    /// The datapoint to write (its name, not its hash id).
    #[arg(long, value_name = "NAME")]
    pub datapoint: String,
    /// The value: a number, true/false, or text (see --value-type).
    #[arg(long, value_name = "V", allow_hyphen_values = true)]
    pub value: String,
    /// How to read --value (default: a number if it is one, true/false as a boolean, else text).
    #[arg(long, value_name = "number|boolean|text")]
    pub value_type: Option<String>,
    /// BACnet write priority, 1 (highest) to 16.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PRIORITY.to_string())]
    pub priority: String,
    /// Ask the edge device for an ACKSPT and wait for it.
    #[arg(long)]
    pub acknowledge: bool,
    /// Validate on the edge device without writing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds to wait for the ACKSPT.
    #[arg(long, value_name = "S", default_value_t = 30)]
    pub timeout: u64,
    /// Reference to use (default: a new UUID); repeat one to re-send a request.
    #[arg(long, value_name = "REF")]
    pub reference: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

fn value_kind(args: &SetpointArgs) -> Result<ValueKind, CommandError> {
    match args.value_type.as_deref() {
        Some("number") => Ok(ValueKind::Number),
        Some("boolean") => Ok(ValueKind::Boolean),
        Some("text") => Ok(ValueKind::Text),
        Some(other) => Err(CommandError::Invalid(format!(
            "--value-type {other}: use number, boolean or text."
        ))),
        // A decimal comma counts as a number, so it is refused rather than sent as text.
        None if serde_json::from_str::<serde_json::Number>(
            &args.value.trim().replace(',', "."),
        )
        .is_ok() =>
        {
            Ok(ValueKind::Number)
        }
        None if matches!(
            args.value.trim().to_ascii_lowercase().as_str(),
            "true" | "false"
        ) =>
        {
            Ok(ValueKind::Boolean)
        }
        None => Ok(ValueKind::Text),
    }
}

/// The checked NEWSPT for the arguments.
pub fn compose(args: &SetpointArgs) -> Result<ComposedWrite, CommandError> {
    let draft = SetpointDraft {
        project: args.project.clone(),
        datapoint: args.datapoint.clone(),
        value: args.value.clone(),
        kind: value_kind(args)?,
        priority: args.priority.clone(),
        acknowledge: args.acknowledge,
        dry_run: args.dry_run,
        reference: args.reference.clone().unwrap_or_else(new_reference),
    };
    draft.compose().map_err(|errors| {
        CommandError::Invalid(format!("Nothing was sent. {}", describe_errors(&errors)))
    })
}

fn confirmed(write: &ComposedWrite) -> bool {
    eprintln!("{}", write.summary());
    eprintln!("Payload: {}", write.payload);
    eprint!("Send it? Type yes to confirm: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "yes" | "y")
}

/// Runs `topicscope setpoint`; returns the tracked request in its final state.
pub fn run(args: &SetpointArgs) -> Result<TrackedRequest, CommandError> {
    let write = compose(args)?;
    let mut resolved = args.target.resolve()?;
    if resolved.publisher.read_only() {
        // Ask the gate, so the refusal is the same one the window gives.
        resolved
            .publisher
            .authorize(write.request(), WriteKind::Setpoint, now_nanos())?;
    }
    if !args.yes && !confirmed(&write) {
        return Err(CommandError::Failed("Cancelled; nothing was sent.".into()));
    }
    let authorized =
        resolved
            .publisher
            .authorize(write.request(), WriteKind::Setpoint, now_nanos())?;
    // Subscribe before sending, so the answer cannot be missed.
    let filters = if args.acknowledge {
        vec![format!("{}/#", write.topic)]
    } else {
        Vec::new()
    };
    let writer = match Writer::connect(&resolved, &filters) {
        Ok(writer) => writer,
        Err(error) => {
            let outcome = crate::model::write::publish::PublishOutcome::NotSent(error.to_string());
            resolved
                .publisher
                .record_outcome(authorized.id(), outcome, now_nanos());
            return Err(error);
        }
    };
    let mut tracker = SetpointTracker::new(args.timeout.max(1));
    let outcome = writer.send(&mut resolved.publisher, authorized);
    if !outcome.is_success() {
        writer.close();
        return Err(CommandError::Failed(format!(
            "The NEWSPT was not delivered to the broker: {}",
            outcome.label()
        )));
    }
    tracker.track(&write, now_nanos());
    if args.acknowledge {
        wait_for_answer(
            &writer,
            &mut tracker,
            Duration::from_secs(args.timeout.max(1)),
        );
    }
    writer.close();
    tracker
        .get(&write.reference)
        .cloned()
        .ok_or_else(|| CommandError::Failed("The request was not tracked.".into()))
}

fn wait_for_answer(writer: &Writer, tracker: &mut SetpointTracker, timeout: Duration) {
    let deadline = Instant::now() + timeout + POLL;
    let mut messages = Vec::new();
    while tracker.waiting() {
        messages.clear();
        writer.drain(&mut messages);
        for message in &messages {
            tracker.on_message(&message.topic, &message.payload, now_nanos());
        }
        tracker.expire(now_nanos());
        if Instant::now() >= deadline {
            // The tracker's own deadline has passed too; make sure it says so.
            tracker.expire(i64::MAX);
        }
        std::thread::sleep(POLL);
    }
}

/// `main` for `topicscope setpoint`.
pub fn main(args: &SetpointArgs) -> ExitCode {
    match run(args) {
        Ok(request) => {
            println!("{}", request.to_json());
            match request.state {
                RequestState::Written => ExitCode::SUCCESS,
                RequestState::Validated if request.dry_run => ExitCode::SUCCESS,
                RequestState::Requested => ExitCode::from(EXIT_UNCONFIRMED),
                _ => ExitCode::from(EXIT_FAILED),
            }
        }
        Err(error) => {
            let state = serde_json::json!({"state": "not_sent", "message": error.to_string()});
            println!("{state}");
            eprintln!("topicscope: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
