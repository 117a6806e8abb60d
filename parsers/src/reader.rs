//! Readers over the parser: a whole input in memory, or a `Read` in bounded chunks.
//!
//! The streaming reader holds at most one transaction set plus one chunk, so a file far
//! larger than memory is parsed in flat memory. It reads through the caller's `Read`; the
//! crate itself opens nothing.

use std::io::{self, Read};

use crate::envelope::Event;
use crate::options::ParseOptions;
use crate::parser::{Parser, Progress};

/// Events of an input held in memory.
#[derive(Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
    parser: Parser,
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8], options: ParseOptions) -> Self {
        Reader { input, parser: Parser::new(options) }
    }

    /// See `Parser::keep_segments`.
    pub fn keep_segments(mut self, keep: bool) -> Self {
        self.parser = self.parser.keep_segments(keep);
        self
    }

    /// The next event, or `None` at the end of the input.
    #[allow(clippy::should_implement_trait)] // a lending iterator: events borrow the reader
    pub fn next(&mut self) -> Option<Event<'_>> {
        match self.parser.advance(self.input, true) {
            Progress::Ready => self.parser.event(self.input),
            Progress::NeedMore | Progress::Done => None,
        }
    }
}

/// Default size of one read.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Events of a `Read`, in bounded memory.
#[derive(Debug)]
pub struct StreamReader<R> {
    source: R,
    /// `buf[..filled]` holds input; the rest is spare room, kept initialized so reads need
    /// not zero it again.
    buf: Vec<u8>,
    filled: usize,
    parser: Parser,
    eof: bool,
    chunk_bytes: usize,
}

impl<R: Read> StreamReader<R> {
    pub fn new(source: R, options: ParseOptions) -> Self {
        StreamReader {
            source,
            buf: Vec::new(),
            filled: 0,
            parser: Parser::new(options),
            eof: false,
            chunk_bytes: CHUNK_BYTES,
        }
    }

    /// See `Parser::keep_segments`.
    pub fn keep_segments(mut self, keep: bool) -> Self {
        self.parser = self.parser.keep_segments(keep);
        self
    }

    /// Bytes asked of the source per read.
    pub fn chunk_bytes(mut self, bytes: usize) -> Self {
        self.chunk_bytes = bytes.max(1);
        self
    }

    /// The next event, `None` at the end, or the source's I/O error.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<io::Result<Event<'_>>> {
        loop {
            let input = self.buf.get(..self.filled).unwrap_or_default();
            match self.parser.advance(input, self.eof) {
                Progress::Ready => {
                    let input = self.buf.get(..self.filled).unwrap_or_default();
                    return self.parser.event(input).map(Ok);
                }
                Progress::Done => return None,
                Progress::NeedMore => {
                    if let Err(err) = self.fill() {
                        return Some(Err(err));
                    }
                }
            }
        }
    }

    /// Drops what the parser no longer needs, then reads one chunk.
    fn fill(&mut self) -> io::Result<()> {
        let keep_from = self.parser.retain_from().min(self.filled);
        // Compact only when it frees a good share: moving a large retained transaction set
        // on every read would be quadratic.
        if keep_from > 0 && (keep_from >= self.chunk_bytes || keep_from * 2 >= self.filled) {
            self.buf.copy_within(keep_from..self.filled, 0);
            self.filled -= keep_from;
            self.parser.consume_prefix(keep_from);
        }
        if self.buf.len() < self.filled + self.chunk_bytes {
            self.buf.resize(self.filled + self.chunk_bytes, 0);
        }
        loop {
            let spare = self.buf.get_mut(self.filled..).unwrap_or_default();
            match self.source.read(spare) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
    }

    /// Bytes currently buffered (for memory tests).
    pub fn buffered_bytes(&self) -> usize {
        self.buf.capacity()
    }
}
