//! Rendering a run of documents into one interchange, a transaction set at a time: each set is
//! rendered and checked on its own (so sets can be rendered on several threads), then the
//! sets are grouped by document type and wrapped in the envelope with counts and trailers.

use crossdock_parsers::tree::TransactionSet;
use std::io::{self, Write};

use crossdock_parsers::writer::{Layout, WriteError, WriteOptions};

use super::envelope::{self, EnvelopeSpec, Stamp};
use super::Target;
use crate::canonical::{CanonicalDocument, DocumentKind, Standard};
use crate::config::Partner;
use crate::control_numbers::nth;
use crate::translate::{check_rendered, edifact_body_verdict, x12_written_verdict};

/// One rendered transaction set: ST..SE or UNH..UNT.
#[derive(Debug)]
pub struct RenderedSet {
    pub kind: DocumentKind,
    pub bytes: Vec<u8>,
}

/// Rendered sets by document type, in order of first appearance: one functional group each.
#[derive(Debug, Default)]
pub struct Groups {
    groups: Vec<(DocumentKind, Vec<Vec<u8>>)>,
}

impl Groups {
    pub fn push(&mut self, set: RenderedSet) {
        match self.groups.iter_mut().find(|(kind, _)| *kind == set.kind) {
            Some((_, sets)) => sets.push(set.bytes),
            None => self.groups.push((set.kind, vec![set.bytes])),
        }
    }

    /// Each group's document type and number of sets, in order.
    pub fn counts(&self) -> Vec<(DocumentKind, usize)> {
        self.groups.iter().map(|(kind, sets)| (*kind, sets.len())).collect()
    }
}

/// The envelope of an interchange, apart from the sets it wraps: the interchange header,
/// each group's header and trailer (empty for EDIFACT), and the interchange trailer.
#[derive(Debug)]
pub struct Wrapping {
    pub header: Vec<u8>,
    pub groups: Vec<(Vec<u8>, Vec<u8>)>,
    pub trailer: Vec<u8>,
}

/// Group header, sets, group trailer (the header and trailer are empty for EDIFACT).
type AssembledGroup<'a> = (Vec<u8>, &'a [Vec<u8>], Vec<u8>);

/// An interchange ready to write: envelope segments around the rendered sets.
#[derive(Debug)]
pub struct Assembled<'a> {
    header: Vec<u8>,
    groups: Vec<AssembledGroup<'a>>,
    trailer: Vec<u8>,
}

impl Assembled<'_> {
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.header)?;
        for (header, sets, trailer) in &self.groups {
            out.write_all(header)?;
            for set in *sets {
                out.write_all(set)?;
            }
            out.write_all(trailer)?;
        }
        out.write_all(&self.trailer)
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_to(&mut out);
        out
    }
}

/// Renders documents for one partner.
#[derive(Debug)]
pub struct InterchangeRenderer<'a> {
    partner: &'a Partner,
    spec: EnvelopeSpec,
    layout: Layout,
}

impl<'a> InterchangeRenderer<'a> {
    /// Fails when the profile says nothing of the partner's standard or envelope.
    pub fn new(partner: &'a Partner) -> Result<Self, String> {
        let standard =
            partner.standard().ok_or_else(|| format!("partner {} has no [x12] or [edifact] section", partner.id))?;
        let spec = partner
            .envelope_spec(standard)
            .ok_or_else(|| format!("partner {} has no envelope settings", partner.id))?;
        let mut delimiters = spec.delimiters;
        if standard == Standard::X12 && envelope::x12_interchange_version(&spec.version) == "00401" {
            delimiters.repetition = None;
        }
        let layout = Layout::new(standard.into(), delimiters, WriteOptions { line_break_after_segment: true })
            .map_err(|e| format!("partner {}: {e}", partner.id))?;
        Ok(InterchangeRenderer { partner, spec, layout })
    }

    pub fn standard(&self) -> Standard {
        self.spec.standard
    }

    /// Renders one document as a transaction set with `control_number`, and checks the
    /// result as the partner's translator would. Problems come back in words for the person
    /// who sent the document.
    pub fn transaction_set(
        &self,
        document: CanonicalDocument,
        control_number: u64,
    ) -> Result<RenderedSet, Vec<String>> {
        let kind = document.kind();
        if !self.partner.sends(kind) {
            return Err(vec![format!(
                "partner {} is not set up to receive a {kind} (documents.send)",
                self.partner.id
            )]);
        }
        let target = Target {
            standard: self.spec.standard,
            version: &self.spec.version,
            decimal_mark: self.spec.delimiters.decimal,
            xref: Some(&self.partner.xref),
        };
        let body = super::body(document.document, &target).map_err(|e| vec![e.to_string()])?;
        let header = envelope::set_header(&self.spec, kind, &format!("{control_number:04}"));
        let set = TransactionSet { header, segments: body };
        let mut bytes = Vec::with_capacity(64 * (set.segments.len() + 2));
        self.layout.transaction_set(&set, &mut bytes).map_err(|e| vec![e.to_string()])?;
        // A set the quick verdict vouches for is not read back (reading it back was a fifth
        // of `crossdock render`'s time): an X12 set is cut in place as translation cuts what
        // it receives, an EDIFACT body is judged from its tree. Any other set is checked as
        // written, which also locates each problem. Debug builds (the tests) check both ways
        // and compare the verdicts.
        let delimiters = *self.layout.delimiters();
        let verdict = match self.spec.standard {
            Standard::X12 => x12_written_verdict(&bytes, delimiters),
            Standard::Edifact => edifact_body_verdict(&set.segments, delimiters),
        };
        if verdict != Some(true) || cfg!(debug_assertions) {
            let errors = check_rendered(self.spec.standard, delimiters, &bytes);
            debug_assert!(
                verdict.is_none_or(|passes| passes == errors.is_empty()),
                "the quick verdict ({verdict:?}) differs from reading the set back: {errors:?}"
            );
            if !errors.is_empty() {
                return Err(errors.iter().map(|e| format!("the rendered EDI is invalid: {e}")).collect());
            }
        }
        Ok(RenderedSet { kind, bytes })
    }

    /// Wraps the groups in an interchange numbered `interchange`, X12 groups numbered from
    /// `first_group` on (EDIFACT messages go without UNG groups). Fails when the profile's
    /// envelope values cannot be written (an id too long for the ISA, for instance).
    pub fn assemble<'g>(
        &self,
        interchange: u64,
        first_group: u64,
        groups: &'g Groups,
        stamp: &Stamp,
    ) -> Result<Assembled<'g>, String> {
        let wrapping = self.wrapping(interchange, first_group, &groups.counts(), stamp)?;
        let assembled = wrapping
            .groups
            .into_iter()
            .zip(&groups.groups)
            .map(|((header, trailer), (_, sets))| (header, sets.as_slice(), trailer))
            .collect();
        Ok(Assembled { header: wrapping.header, groups: assembled, trailer: wrapping.trailer })
    }

    /// The envelope for groups of the given document types and numbers of sets, wherever the
    /// sets themselves are kept (in memory for the gateway, spooled to disk by `crossdock
    /// render`): numbered and failing as `assemble` does.
    pub fn wrapping(
        &self,
        interchange: u64,
        first_group: u64,
        groups: &[(DocumentKind, usize)],
        stamp: &Stamp,
    ) -> Result<Wrapping, String> {
        let shell = match self.spec.standard {
            Standard::X12 => envelope::x12_shell(&self.spec, interchange, stamp),
            Standard::Edifact => envelope::edifact_shell(&self.spec, interchange, stamp, Vec::new()),
        };
        let layout = &self.layout;
        let problem = |e: WriteError| format!("partner {}: the envelope cannot be written: {e}", self.partner.id);
        let mut header = Vec::new();
        layout.interchange_header(&shell, &mut header).map_err(problem)?;
        let mut wrapped = Vec::new();
        for (i, (kind, sets)) in groups.iter().enumerate() {
            let (mut group_header, mut group_trailer) = (Vec::new(), Vec::new());
            if self.spec.standard == Standard::X12 {
                let number = nth(first_group, i as u64);
                let gs = envelope::gs(&self.spec, kind.x12_functional_id(), number, &self.spec.version, stamp);
                layout.segment(&gs, &mut group_header).map_err(problem)?;
                layout.group_trailer(&gs, *sets, &mut group_trailer).map_err(problem)?;
            }
            wrapped.push((group_header, group_trailer));
        }
        let count = match self.spec.standard {
            Standard::X12 => groups.len(),
            Standard::Edifact => groups.iter().map(|(_, sets)| sets).sum(),
        };
        let mut trailer = Vec::new();
        layout.interchange_trailer(&shell, count, &mut trailer).map_err(problem)?;
        Ok(Wrapping { header, groups: wrapped, trailer })
    }
}
