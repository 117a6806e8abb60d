//! Outbound control numbers: per partner, increasing, never handed out twice.
//!
//! The CLI keeps them in `control-numbers.json` under the data directory, updated under an
//! exclusive file lock so that concurrent runs cannot take the same number; the gateway's
//! store takes the counters over when it runs (it imports this file once).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The largest value of a 9-digit control number (ISA13, GS06); counters wrap to 1 after it.
pub const CONTROL_NUMBER_MAX: u64 = 999_999_999;

/// Counters of one partner: the last number used of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub interchange: u64,
    pub group: u64,
    pub transaction_set: u64,
}

/// Numbers reserved for one rendering: the first of each run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    pub interchange: u64,
    pub group: u64,
    pub transaction_set: u64,
}

fn advance(last: u64, count: u64) -> (u64, u64) {
    if count == 0 {
        return (after(last), last);
    }
    // Skip back to 1 rather than wrap in the middle of a reservation.
    let first = if last + count > CONTROL_NUMBER_MAX { 1 } else { last + 1 };
    (first, first + count.saturating_sub(1))
}

/// The state file.
pub struct ControlNumberFile {
    path: PathBuf,
}

impl ControlNumberFile {
    pub fn new(data_dir: &Path) -> Self {
        ControlNumberFile { path: data_dir.join("control-numbers.json") }
    }

    /// Reserves `interchanges`, `groups` and `sets` numbers for `partner`.
    pub fn reserve(&self, partner: &str, interchanges: u64, groups: u64, sets: u64) -> io::Result<Reservation> {
        let mut held = self.hold()?;
        let counters = held.state.entry(partner.to_owned()).or_default();
        let (interchange, last_interchange) = advance(counters.interchange, interchanges);
        let (group, last_group) = advance(counters.group, groups);
        let (transaction_set, last_set) = advance(counters.transaction_set, sets);
        held.commit(partner, Counters { interchange: last_interchange, group: last_group, transaction_set: last_set })?;
        Ok(Reservation { interchange, group, transaction_set })
    }

    /// Takes the file's lock until the returned guard commits or is dropped: for a run that
    /// learns how many numbers it needs only as it goes (a streamed rendering). Another run
    /// for any partner waits meanwhile.
    pub fn hold(&self) -> io::Result<Held<'_>> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let lock =
            OpenOptions::new().create(true).truncate(false).write(true).open(self.path.with_extension("lock"))?;
        lock.lock()?;
        let state = self.read()?;
        Ok(Held { file: self, _lock: lock, state })
    }

    /// The counters of every partner (for the store to import).
    pub fn read(&self) -> io::Result<BTreeMap<String, Counters>> {
        let mut text = String::new();
        match File::open(&self.path) {
            Ok(mut file) => {
                file.read_to_string(&mut text)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(e),
        }
        serde_json::from_str(&text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", self.path.display())))
    }

    fn write(&self, state: &BTreeMap<String, Counters>) -> io::Result<()> {
        let temporary = self.path.with_extension("json.tmp");
        let mut file = File::create(&temporary)?;
        file.write_all(serde_json::to_string_pretty(state).map_err(io::Error::other)?.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &self.path)
    }
}

/// The `n`th number (from 0) of a run that starts at `first`, wrapping to 1 after the maximum.
pub fn nth(first: u64, n: u64) -> u64 {
    (first.max(1) - 1 + n) % CONTROL_NUMBER_MAX + 1
}

/// The number after `last` (0: none used yet).
fn after(last: u64) -> u64 {
    last % CONTROL_NUMBER_MAX + 1
}

/// The counters, locked; see [`ControlNumberFile::hold`]. Dropping it without committing
/// leaves the counters as they were.
pub struct Held<'a> {
    file: &'a ControlNumberFile,
    // Unlocked when the file is closed.
    _lock: File,
    state: BTreeMap<String, Counters>,
}

impl Held<'_> {
    /// The first numbers a run for `partner` may use.
    pub fn first(&self, partner: &str) -> Reservation {
        let last = self.state.get(partner).copied().unwrap_or_default();
        Reservation {
            interchange: after(last.interchange),
            group: after(last.group),
            transaction_set: after(last.transaction_set),
        }
    }

    /// Records the last numbers used for `partner`, durably, and releases the lock.
    pub fn commit(mut self, partner: &str, last: Counters) -> io::Result<()> {
        self.state.insert(partner.to_owned(), last);
        self.file.write(&self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_never_repeat() {
        let dir = std::env::temp_dir().join(format!("crossdock-cn-{}", std::process::id()));
        let file = ControlNumberFile::new(&dir);
        let a = file.reserve("acme", 1, 2, 3).unwrap();
        let b = file.reserve("acme", 1, 1, 1).unwrap();
        let other = file.reserve("globex", 1, 1, 1).unwrap();
        assert_eq!((a.interchange, a.group, a.transaction_set), (1, 1, 1));
        assert_eq!((b.interchange, b.group, b.transaction_set), (2, 3, 4));
        assert_eq!(other.interchange, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_held_run_takes_numbers_as_it_goes_and_an_abandoned_one_takes_none() {
        let dir = tempfile::tempdir().unwrap();
        let file = ControlNumberFile::new(dir.path());
        file.reserve("acme", 1, 1, 5).unwrap();
        let held = file.hold().unwrap();
        let first = held.first("acme");
        assert_eq!((first.interchange, first.group, first.transaction_set), (2, 2, 6));
        drop(held);
        let held = file.hold().unwrap();
        assert_eq!(held.first("acme"), first, "nothing was committed");
        held.commit("acme", Counters { interchange: 2, group: 3, transaction_set: nth(6, 99) }).unwrap();
        let next = file.reserve("acme", 1, 1, 1).unwrap();
        assert_eq!((next.interchange, next.group, next.transaction_set), (3, 4, 106));
        assert_eq!(nth(CONTROL_NUMBER_MAX, 1), 1);
        assert_eq!((after(0), after(CONTROL_NUMBER_MAX)), (1, 1));
    }

    #[test]
    fn wraps_before_the_ten_digit_mark() {
        assert_eq!(advance(CONTROL_NUMBER_MAX - 1, 1), (CONTROL_NUMBER_MAX, CONTROL_NUMBER_MAX));
        assert_eq!(advance(CONTROL_NUMBER_MAX, 1), (1, 1));
        assert_eq!(advance(CONTROL_NUMBER_MAX - 1, 3), (1, 3));
    }
}
