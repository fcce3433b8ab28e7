//! Child processes that never outlive the harness.
//!
//! Every process the harness starts (Envoy, `gatehouse run --local`) is a [`Guarded`]: it
//! runs in its own process group, and dropping the guard (normally or while a test panics)
//! sends SIGTERM to the whole group, waits briefly, then SIGKILLs it. When `setpriv` is
//! available the child also gets `--pdeathsig KILL`, so even a harness killed with SIGKILL
//! (a test runner timeout) does not leave it behind.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::poll::try_wait_until;

/// How long a child gets between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// A child process (and its process group) that is killed when this value is dropped.
#[derive(Debug)]
pub struct Guarded {
    child: Child,
    name: String,
    exited: Option<ExitStatus>,
}

/// Builds the command line for `program args`, prefixed by `setpriv --pdeathsig KILL` when
/// available and `taskset -c CPUS` when `cpus` is set. Both exec, so the PID of the child
/// is the PID of `program`.
pub fn command(program: &Path, cpus: Option<&str>) -> Command {
    let mut argv: Vec<String> = Vec::new();
    if Path::new("/usr/bin/setpriv").exists() {
        argv.extend([
            "/usr/bin/setpriv".into(),
            "--pdeathsig".into(),
            "KILL".into(),
        ]);
    }
    if let Some(cpus) = cpus {
        argv.extend(["taskset".into(), "-c".into(), cpus.to_owned()]);
    }
    let mut cmd = match argv.first() {
        Some(first) => {
            let mut cmd = Command::new(first);
            cmd.args(argv.get(1..).unwrap_or_default());
            cmd.arg(program);
            cmd
        }
        None => Command::new(program),
    };
    // Own process group: the guard signals the group, which reaches anything the child
    // starts, and a Ctrl-C meant for the test runner is not delivered twice.
    cmd.process_group(0);
    cmd
}

impl Guarded {
    /// Spawns `cmd` (built with [`command`]) under a guard.
    pub fn spawn(mut cmd: Command, name: &str) -> std::io::Result<Self> {
        let child = cmd.spawn()?;
        Ok(Self {
            child,
            name: name.to_owned(),
            exited: None,
        })
    }

    /// The child's PID (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the child has exited (reaping it), `None` while it runs.
    pub fn try_exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Waits up to `timeout` for the child to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        try_wait_until(timeout, || self.try_exit_status())
    }

    /// SIGTERM to the group, then SIGKILL after a grace period; reaps the child.
    pub fn stop(&mut self) {
        let pgid = Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX));
        if self.try_exit_status().is_none() {
            let _ = killpg(pgid, Signal::SIGTERM);
            if self.wait_exit(TERM_GRACE).is_none() {
                eprintln!(
                    "[harness] {} (pid {}) ignored SIGTERM for {TERM_GRACE:?}; sending SIGKILL",
                    self.name,
                    self.child.id()
                );
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        // Whatever else is left in the group (the child's own children) goes too.
        let _ = killpg(pgid, Signal::SIGKILL);
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.stop();
    }
}

/// True while a process with this PID exists and is not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat_field(&stat, 3).is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// CPU time (user + system) a process has used so far, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let utime: u64 = stat_field(&stat, 14)?.parse().ok()?;
    let stime: u64 = stat_field(&stat, 15)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`getconf CLK_TCK`).
pub fn clock_ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(100)
}

/// Resident set size of a process in bytes.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Field `n` (1-based, as in proc(5)) of `/proc/PID/stat`; the command name in field 2 may
/// contain spaces, so fields are counted after its closing parenthesis.
fn stat_field(stat: &str, n: usize) -> Option<&str> {
    let after = stat.get(stat.rfind(')')? + 1..)?;
    after.split_whitespace().nth(n.checked_sub(3)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 11 12 13";
        assert_eq!(stat_field(stat, 3), Some("S"));
        assert_eq!(stat_field(stat, 14), Some("11"));
        assert_eq!(stat_field(stat, 15), Some("12"));
    }

    #[test]
    fn own_process_is_alive_and_has_cpu_and_rss() {
        let pid = std::process::id();
        assert!(pid_alive(pid));
        assert!(cpu_ticks(pid).is_some());
        assert!(rss_bytes(pid).unwrap() > 0);
    }
}
