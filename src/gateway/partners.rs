//! Partner profiles that reload themselves: the directory is watched (by polling its files'
//! names, sizes and modification times, which works on every filesystem and in containers);
//! on a change the whole set is loaded again, and it replaces the one in force only if every
//! file is good. A broken file is reported, and the last good set stays in force.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use crate::config::partner::load_dir;
use crate::config::Partners;
use crate::metrics as m;

/// What the directory looked like: (file name, size, modified).
type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

#[derive(Debug)]
pub struct PartnerSet {
    dir: PathBuf,
    current: RwLock<Arc<Partners>>,
    problems: RwLock<Vec<String>>,
    seen: Mutex<Fingerprint>,
}

fn fingerprint(dir: &Path) -> Fingerprint {
    let mut files: Fingerprint = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let meta = e.metadata().ok()?;
                    meta.is_file().then(|| (e.path(), meta.len(), meta.modified().ok()))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

impl PartnerSet {
    /// Loads the directory. At start there is no last good set: the good files are used and
    /// the broken ones reported.
    pub fn load(dir: &Path) -> PartnerSet {
        let seen = fingerprint(dir);
        let (partners, problems) = if dir.exists() {
            load_dir(dir)
        } else {
            tracing::warn!(dir = %dir.display(), "the partner directory does not exist: no partner is known");
            (Vec::new(), Vec::new())
        };
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        for problem in &problems {
            tracing::error!(%problem, "partner profile problem");
        }
        let set = PartnerSet {
            dir: dir.to_owned(),
            current: RwLock::new(Arc::new(Partners::new(partners))),
            problems: RwLock::new(problems),
            seen: Mutex::new(seen),
        };
        set.publish();
        set
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The profiles in force.
    pub fn current(&self) -> Arc<Partners> {
        self.current.read().map(|c| Arc::clone(&c)).unwrap_or_default()
    }

    /// Problems found at the last load, as `file:line: message`.
    pub fn problems(&self) -> Vec<String> {
        self.problems.read().map(|p| p.clone()).unwrap_or_default()
    }

    /// Reloads if any file changed; `Some(true)` when a new set took force, `Some(false)` when
    /// the new files were refused, `None` when nothing changed.
    pub fn reload_if_changed(&self) -> Option<bool> {
        let now = fingerprint(&self.dir);
        {
            let mut seen = self.seen.lock().ok()?;
            if *seen == now {
                return None;
            }
            *seen = now;
        }
        let (partners, problems) = load_dir(&self.dir);
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let accepted = problems.is_empty();
        if accepted {
            tracing::info!(partners = partners.len(), "partner profiles reloaded");
            if let Ok(mut current) = self.current.write() {
                *current = Arc::new(Partners::new(partners));
            }
        } else {
            for problem in &problems {
                tracing::error!(%problem, "partner profile problem: the last good profiles stay in force");
            }
        }
        if let Ok(mut p) = self.problems.write() {
            *p = problems;
        }
        metrics::counter!(m::PARTNER_RELOADS, "outcome" => if accepted { "ok" } else { "failed" }).increment(1);
        self.publish();
        Some(accepted)
    }

    fn publish(&self) {
        metrics::gauge!(m::PARTNERS_LOADED).set(self.current().len() as f64);
        metrics::gauge!(m::PARTNER_PROFILE_PROBLEMS).set(self.problems().len() as f64);
    }
}
