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
    buf: Vec<u8>,
    parser: Parser,
    eof: bool,
    chunk_bytes: usize,
}

impl<R: Read> StreamReader<R> {
    pub fn new(source: R, options: ParseOptions) -> Self {
        StreamReader { source, buf: Vec::new(), parser: Parser::new(options), eof: false, chunk_bytes: CHUNK_BYTES }
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
            match self.parser.advance(&self.buf, self.eof) {
                Progress::Ready => return self.parser.event(&self.buf).map(Ok),
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
        let keep_from = self.parser.retain_from();
        // Compact only when it frees a good share: moving a large retained transaction set
        // on every read would be quadratic.
        if keep_from > 0 && (keep_from >= self.chunk_bytes || keep_from * 2 >= self.buf.len()) {
            self.buf.drain(..keep_from);
            self.parser.consume_prefix(keep_from);
        }
        let old_len = self.buf.len();
        self.buf.resize(old_len + self.chunk_bytes, 0);
        loop {
            match self.source.read(&mut self.buf[old_len..]) {
                Ok(0) => {
                    self.buf.truncate(old_len);
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.buf.truncate(old_len + n);
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    self.buf.truncate(old_len);
                    return Err(err);
                }
            }
        }
    }

    /// Bytes currently buffered (for memory tests).
    pub fn buffered_bytes(&self) -> usize {
        self.buf.capacity()
    }
}
