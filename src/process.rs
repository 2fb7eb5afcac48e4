//! What the operating system says about this process: resident memory and CPU time, on Linux,
//! Windows and macOS alike (the `memory-stats` and `cpu-time` crates), so the memory budget holds
//! everywhere. The peak resident size is read where the OS keeps it (Linux `/proc`).

/// This process's resident set size in bytes, or `None` where the OS does not tell.
pub fn rss_bytes() -> Option<u64> {
    memory_stats::memory_stats().map(|stats| stats.physical_mem as u64)
}

/// The highest resident set size of this process so far, or `None` where the OS does not keep
/// it for us (only Linux's `/proc/self/status` `VmHWM` is read).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_kib_as_bytes(&status, "VmHWM:")
}

/// CPU time (user + system) this process has used, in seconds.
pub fn cpu_secs() -> Option<f64> {
    cpu_time::ProcessTime::try_now()
        .ok()
        .map(|time| time.as_duration().as_secs_f64())
}

/// CPU time the calling thread has used, in nanoseconds.
pub fn thread_cpu_nanos() -> Option<u64> {
    cpu_time::ThreadTime::try_now()
        .ok()
        .and_then(|time| u64::try_from(time.as_duration().as_nanos()).ok())
}

/// Seconds since this process started, where the OS says (Linux `/proc`, 10 ms resolution).
pub fn secs_since_start() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    secs_since_start_from(&stat, &uptime)
}

/// [`secs_since_start`] from the texts of `/proc/self/stat` and `/proc/uptime`.
fn secs_since_start_from(stat: &str, uptime: &str) -> Option<f64> {
    // The command name (field 2) may hold spaces and parentheses; the fields after the last
    // ')' are fixed. starttime is field 22 of the line, 20 after the name, in clock ticks since
    // boot, which are 1/100 s on every mainstream kernel configuration.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let start_ticks: f64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    let uptime_secs: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    Some(uptime_secs - start_ticks / 100.0)
}

/// A `key:  1234 kB` line of a `/proc/<pid>/status` text, in bytes.
fn status_kib_as_bytes(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    let kib: u64 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read_in_bytes() {
        let status = "Name:\ttopicscope\nVmHWM:\t  9000 kB\nVmRSS:\t    1234 kB\nThreads:\t3\n";
        assert_eq!(status_kib_as_bytes(status, "VmRSS:"), Some(1234 * 1024));
        assert_eq!(status_kib_as_bytes(status, "VmHWM:"), Some(9000 * 1024));
        assert_eq!(status_kib_as_bytes("Name:\tx\n", "VmRSS:"), None);
        assert_eq!(status_kib_as_bytes("VmRSS:\tlots kB\n", "VmRSS:"), None);
    }

    #[test]
    fn the_start_time_is_read_after_a_command_name_with_spaces() {
        let stat = "4242 (top (scope) x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 500 19 20";
        assert_eq!(secs_since_start_from(stat, "12.50 40.00"), Some(7.5));
        assert_eq!(secs_since_start_from("garbage", "12.5 1"), None);
    }

    #[test]
    fn this_process_has_a_resident_size_and_cpu_time() {
        let rss = rss_bytes().expect("every supported OS reports the resident size");
        assert!(rss > 0);
        assert!(cpu_secs().expect("cpu time") >= 0.0);
        assert!(thread_cpu_nanos().is_some());
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(peak_rss_bytes().is_some_and(|peak| peak >= rss / 2));
        }
    }
}
