//! Each job's temporary directory, and the removal of those that workers which died (killed,
//! out of memory) left behind.
//!
//! A job's directory is `anb-job-<pid>-<random>` under the worker's temporary root, and holds
//! a lock file the worker keeps locked (`flock`, exclusive) for as long as the job runs, with
//! its process id written in it. The kernel drops the lock when the process ends, however it
//! ends, so a directory whose lock can be taken belongs to nobody: that is how a starting
//! worker tells leftovers from the directories of workers alive on the same machine (or in
//! other containers sharing the directory), whatever their process ids.

use std::fs::{File, TryLockError};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use tracing::{debug, warn};

/// What every job directory's name starts with.
const PREFIX: &str = "anb-job-";
/// The lock file inside a job directory.
const LOCK_FILE: &str = ".owner.lock";
/// A directory whose lock file is missing or empty (its worker died while creating it, in the
/// instant before locking) is only removed once it is this old.
const UNFINISHED_AFTER: Duration = Duration::from_secs(10 * 60);

/// A job's temporary directory, locked as in use until dropped (then removed).
pub(crate) struct JobDir {
    // Dropped in this order: the directory (and the lock file in it), then the lock.
    dir: tempfile::TempDir,
    _lock: File,
}

impl JobDir {
    /// A new directory under `root` (the system's temporary directory when `None`).
    pub(crate) fn create(root: Option<&Path>) -> anyhow::Result<Self> {
        let root = root_or_default(root);
        std::fs::create_dir_all(&root)
            .with_context(|| format!("creating the temporary directory {}", root.display()))?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir_in(&root)
            .context("creating a job's temporary directory")?;
        let mut lock = File::create(dir.path().join(LOCK_FILE))
            .context("creating a job directory's lock file")?;
        // Blocks only while a starting worker looks at the new, still empty, file.
        lock.lock().context("locking a job directory")?;
        write!(lock, "{}", std::process::id()).context("writing a job directory's lock file")?;
        lock.flush()
            .context("writing a job directory's lock file")?;
        Ok(Self { dir, _lock: lock })
    }

    /// Where the job's files go.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// `root`, or the system's temporary directory.
pub(crate) fn root_or_default(root: Option<&Path>) -> PathBuf {
    root.map_or_else(std::env::temp_dir, Path::to_owned)
}

/// Removes the job directories under `root` that no live worker holds. Returns how many.
/// Never fails: what cannot be read or removed is logged and left.
pub(crate) fn remove_stale(root: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_job_dir_name(name) || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        match stale(&path) {
            Ok(false) => debug!(dir = %path.display(), "a live worker's job directory; kept"),
            Ok(true) => match std::fs::remove_dir_all(&path) {
                Ok(()) => {
                    removed += 1;
                    debug!(dir = %path.display(), "removed a dead worker's job directory");
                }
                Err(e) => {
                    warn!(dir = %path.display(), error = %e, "could not remove a dead worker's job directory")
                }
            },
            Err(e) => {
                warn!(dir = %path.display(), error = format!("{e:#}"), "could not tell whether a job directory is in use; kept")
            }
        }
    }
    removed
}

/// `anb-job-<digits>-<anything>`: what [`JobDir::create`] makes (older, unlocked names are
/// left alone).
fn is_job_dir_name(name: &str) -> bool {
    name.strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(pid, _)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether nobody holds the directory: its lock can be taken and it was finished (the lock
/// file names its worker); an unfinished one only once it is old.
fn stale(dir: &Path) -> anyhow::Result<bool> {
    let mut lock = match File::open(dir.join(LOCK_FILE)) {
        Ok(lock) => lock,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return older_than_unfinished(dir),
        Err(e) => return Err(e).context("opening the lock file"),
    };
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(false),
        Err(TryLockError::Error(e)) => return Err(e).context("trying the lock"),
    }
    let mut owner = String::new();
    lock.read_to_string(&mut owner)
        .context("reading the lock file")?;
    if owner.trim().is_empty() {
        // Its worker may be about to lock it: let it (the lock drops with `lock`).
        return older_than_unfinished(dir);
    }
    Ok(true)
}

fn older_than_unfinished(dir: &Path) -> anyhow::Result<bool> {
    let modified = std::fs::metadata(dir)
        .and_then(|m| m.modified())
        .context("reading the directory's age")?;
    Ok(SystemTime::now()
        .duration_since(modified)
        .is_ok_and(|age| age >= UNFINISHED_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pid_named_job_directories_are_considered() {
        assert!(is_job_dir_name("anb-job-1234-AbC123"));
        for other in [
            "anb-job-AbC123",
            "anb-job--x",
            "anb-job-12x-y",
            "anb-probe-1-x",
            "x",
        ] {
            assert!(!is_job_dir_name(other), "{other}");
        }
    }

    #[test]
    fn a_dead_workers_directories_are_removed_and_live_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        let live = JobDir::create(Some(root.path())).unwrap();
        std::fs::write(live.path().join("original.mp4"), b"in use").unwrap();

        // A directory whose worker died: its lock file names it, nobody holds the lock.
        let dead = root.path().join("anb-job-4194305-dead01");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join(LOCK_FILE), "4194305").unwrap();
        std::fs::write(dead.join("original.mp4"), b"left behind").unwrap();
        // One caught being created (no owner written yet), and one from before the locks.
        let unfinished = root.path().join("anb-job-4194306-new001");
        std::fs::create_dir(&unfinished).unwrap();
        std::fs::write(unfinished.join(LOCK_FILE), "").unwrap();
        let unrelated = root.path().join("anb-job-old001");
        std::fs::create_dir(&unrelated).unwrap();

        assert_eq!(remove_stale(root.path()), 1);
        assert!(!dead.exists());
        assert!(live.path().join("original.mp4").exists(), "in use: kept");
        assert!(unfinished.exists() && unrelated.exists());

        let path = live.path().to_owned();
        drop(live);
        assert!(!path.exists(), "a finished job removes its own directory");
        assert_eq!(remove_stale(Path::new("/nonexistent/anb")), 0);
    }

    #[test]
    fn a_lock_held_by_another_open_file_keeps_the_directory() {
        // flock is per open file: another handle (another process) cannot take a held lock.
        let root = tempfile::tempdir().unwrap();
        let job = JobDir::create(Some(root.path())).unwrap();
        let other = File::open(job.path().join(LOCK_FILE)).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        assert!(!stale(job.path()).unwrap());
    }
}
