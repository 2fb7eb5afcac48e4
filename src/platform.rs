//! Per-OS glue of the binary that has no other home. Everything else that differs per OS
//! (config folders, keychain, file dialogs, fonts, high-DPI) comes from the crates listed in
//! ARCHITECTURE.md ("Per-OS code paths").

/// Makes command-line output visible on Windows.
///
/// The Windows release binary is a GUI-subsystem program, so starting it from the Start menu
/// opens no console window; but such a program starts without a console even from a terminal.
/// This attaches it to the console of the terminal it was started from, so `topicscope decode …`,
/// `--help`, `--version` and error messages print there. Started from Explorer there is no
/// parent console and nothing happens. Output redirected to a file or pipe works without it.
/// A no-op on other systems.
#[cfg(windows)]
#[expect(
    unsafe_code,
    reason = "AttachConsole is a Win32 call that takes no pointers and may be called at any time"
)]
pub fn attach_parent_console() {
    use windows_sys::Win32::System::Console::{ATTACH_PARENT_PROCESS, AttachConsole};
    // SAFETY: no pointers, no ownership; failure (no parent console, or a console already
    // attached as in debug builds) only returns 0, which needs no handling.
    let _attached = unsafe { AttachConsole(ATTACH_PARENT_PROCESS) };
}

/// Makes command-line output visible on Windows; nothing to do elsewhere.
#[cfg(not(windows))]
pub fn attach_parent_console() {}
