//! Rendering a run of documents into one interchange, a transaction set at a time: each set is
//! rendered and checked on its own (so sets can be rendered on several threads), then the
//! sets are grouped by document type and wrapped in the envelope with counts and trailers.

use crossdock_parsers::tree::{Segment, TransactionSet};
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
        let header = envelope::set_header(&self.spec, kind, &format!("{control_number:04}"));
        let (bytes, segments) = match self.written(&document, &target, &header) {
            Some(bytes) => {
                if cfg!(debug_assertions) {
                    let through_tree = self.through_tree(document, &target, header).map(|(bytes, _)| bytes);
                    debug_assert!(
                        matches!(&through_tree, Ok(tree) if *tree == bytes),
                        "written straight:\n{}\nthrough the tree:\n{:?}",
                        String::from_utf8_lossy(&bytes),
                        through_tree.map(|tree| String::from_utf8_lossy(&tree).into_owned())
                    );
                }
                (bytes, None)
            }
            None => {
                let (bytes, set) = self.through_tree(document, &target, header)?;
                (bytes, Some(set.segments))
            }
        };
        // A set the quick verdict vouches for is not read back (reading it back was a fifth
        // of `crossdock render`'s time): an X12 set is cut in place as translation cuts what
        // it receives, an EDIFACT body is judged from its tree. Any other set is checked as
        // written, which also locates each problem. Debug builds (the tests) check both ways
        // and compare the verdicts.
        let delimiters = *self.layout.delimiters();
        let verdict = match (self.spec.standard, &segments) {
            (Standard::X12, _) => x12_written_verdict(&bytes, delimiters),
            (Standard::Edifact, Some(segments)) => edifact_body_verdict(segments, delimiters),
            (Standard::Edifact, None) => None,
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

    /// The set written straight from the document (`render::body_written`), when that path
    /// writes it.
    fn written(&self, document: &CanonicalDocument, target: &Target<'_>, header: &Segment) -> Option<Vec<u8>> {
        let mut bytes = Vec::with_capacity(4096);
        self.layout.segment(header, &mut bytes).ok()?;
        let mut w = self.layout.simple_segments(&mut bytes);
        super::body_written(&document.document, target, &mut w)?;
        let count = (w.written() + 2).to_string();
        let control = header.value(2);
        w.begin("SE");
        let closed = w.value(&count) && w.value(control);
        closed.then(|| w.end())?;
        Some(bytes)
    }

    /// The set built as a tree, then written: every document the straight path does not
    /// write.
    fn through_tree(
        &self,
        document: CanonicalDocument,
        target: &Target<'_>,
        header: Segment,
    ) -> Result<(Vec<u8>, TransactionSet), Vec<String>> {
        let body = super::body(document.document, target).map_err(|e| vec![e.to_string()])?;
        let set = TransactionSet { header, segments: body };
        let mut bytes = Vec::with_capacity(64 * (set.segments.len() + 2));
        self.layout.transaction_set(&set, &mut bytes).map_err(|e| vec![e.to_string()])?;
        Ok((bytes, set))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An X12 partner with both cross-reference tables, in `dir`.
    fn partner(dir: &std::path::Path) -> Partner {
        std::fs::write(dir.join("items.csv"), "partner item id,our item id\nB-100,SKU-000100\n").unwrap();
        let profile = dir.join("buyerco.toml");
        std::fs::write(
            &profile,
            format!(
                "id = \"buyerco\"\n[x12]\ninterchange_id = \"ZZ:BUYERCO\"\nour_interchange_id = \"ZZ:CROSSDOCK\"\n\
                 version = \"004010\"\n[documents]\nsend = [\"850\"]\n[xref]\nuom = {{ CA = \"CASE\" }}\n\
                 items = \"{}\"\npartner_item_id = \"buyer\"\n",
                dir.join("items.csv").display()
            ),
        )
        .unwrap();
        crate::config::partner::load_file(&profile).unwrap()
    }

    /// An order with a value in nearly every field the 850 renders, values through both
    /// tables, gaps inside segments and empty values at their ends.
    fn order() -> CanonicalDocument {
        serde_json::from_str(
            r#"{"type": "purchase_order", "partner": "buyerco", "document": {
                "po_number": "PO-1", "purpose": "replace", "po_date": "2026-01-05", "release_number": "R1",
                "contract_number": "", "acknowledgment_type_code": "AC", "currency": "USD",
                "requested_delivery_date": "2026-02-01", "requested_ship_date": "2026-01-20",
                "cancel_after_date": "2026-03-01",
                "references": [{"qualifier": "DP", "value": "042"}, {"qualifier": "IA", "value": "9", "description": "VENDOR"}],
                "contacts": [{"name": "PAT", "phone": "555-0100", "fax": "555-0101"}, {"function_code": "BD", "email": "a@b.example"}],
                "notes": [{"text": "FRAGILE"}, {"text": "CALL FIRST", "code": "GEN"}],
                "parties": [
                    {"role": "ship_to", "name": "DC 7", "additional_names": ["DOCK 4", "DOOR 2", "REAR"],
                     "id": {"qualifier": "92", "value": "0007"},
                     "address": {"lines": ["1 MAIN ST", "UNIT 5", "BLDG C"], "city": "AKRON", "country": "US"},
                     "references": [{"qualifier": "ZZ", "value": "X"}], "contacts": [{"name": "LEE"}]},
                    {"role": "ZZ", "role_code": "BY", "name": "HQ"}
                ],
                "lines": [
                    {"line_number": "1", "quantity": 2, "uom": "CASE", "unit_price": 10.5,
                     "item_ids": {"internal": "SKU-000100", "vendor": "V-1"}},
                    {"line_number": "2", "quantity": 1.25, "uom": "EACH", "uom_code": "EA", "unit_price": 4, "price_basis": "PE",
                     "item_ids": {"buyer": "B-9", "xy": "RED"}, "item_id_codes": {"buyer": "IN"},
                     "description": "WIDGET", "requested_delivery_date": "2026-02-02",
                     "packaging": {"pack": 6, "size": 0.5, "size_uom": "LB", "height": 12, "dimension_uom": "IN"},
                     "references": [{"qualifier": "PO", "value": "77"}]},
                    {"quantity": 3}
                ],
                "totals": {"quantity": 6.25, "amount": 33.5}
            }}"#,
        )
        .unwrap()
    }

    fn header(renderer: &InterchangeRenderer<'_>) -> Segment {
        envelope::set_header(&renderer.spec, DocumentKind::PurchaseOrder, "0001")
    }

    fn target<'a>(renderer: &'a InterchangeRenderer<'_>) -> Target<'a> {
        Target {
            standard: Standard::X12,
            version: &renderer.spec.version,
            decimal_mark: b'.',
            xref: Some(&renderer.partner.xref),
        }
    }

    #[test]
    fn an_order_written_straight_reads_as_the_one_written_through_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let partner = partner(dir.path());
        let renderer = InterchangeRenderer::new(&partner).unwrap();
        let (target, header) = (target(&renderer), header(&renderer));
        let straight = renderer.written(&order(), &target, &header).expect("the order is written straight");
        let (through_tree, _) = renderer.through_tree(order(), &target, header).unwrap();
        assert_eq!(String::from_utf8(straight.clone()).unwrap(), String::from_utf8(through_tree).unwrap());
        let text = String::from_utf8(straight).unwrap();
        // The tables both ways (CASE → CA, our SKU-000100 → their B-100), a qualifier for an
        // unknown kind, the gaps, and the count.
        for expected in [
            "BEG*05*SA*PO-1*R1*20260105**AC~",
            "PO1*1*2*CA*10.5**VP*V-1*BP*B-100~",
            "PO1*2*1.25*EA*4*PE*IN*B-9*XY*RED~",
            "PO1**3~",
            "PO4*6*0.5*LB*********12*IN~",
            "N2*DOCK 4*DOOR 2~\nN2*REAR~",
            "N4*AKRON***US~",
            "PER*IC*PAT*TE*555-0100*FX*555-0101~",
            "CTT*3*6.25~\nAMT*TT*33.5~",
            "SE*31*0001~",
        ] {
            assert!(text.contains(expected), "{expected} is not in\n{text}");
        }
    }

    /// `order` with `change` made to it.
    fn edited(change: &dyn Fn(&mut crate::canonical::PurchaseOrder)) -> CanonicalDocument {
        let mut document = order();
        let crate::canonical::Document::PurchaseOrder(po) = &mut document.document else { unreachable!() };
        change(po);
        document
    }

    fn extension(json: &str) -> crate::canonical::Extension {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn extensions_are_written_straight_where_the_tree_puts_them() {
        let dir = tempfile::tempdir().unwrap();
        let partner = partner(dir.path());
        let renderer = InterchangeRenderer::new(&partner).unwrap();
        // Unpositioned ones after their container's segments; positioned ones at their place
        // in the set, wherever they were kept (the header's, a party's, a line's), two at
        // the same place in the order gathered, one past the end, one with components; a BEG
        // kept whole instead of the modeled one.
        let with_extensions = edited(&|po| {
            po.extensions.push(extension(r#"{"segment": "BEG", "elements": ["00", "SA", "PO-1", "", "20260105", "", "", "", "", "", "", "X"], "position": 2}"#));
            po.extensions.push(extension(r#"{"segment": "N9", "elements": ["ZZ", "0"], "position": 4}"#));
            po.extensions.push(extension(r#"{"segment": "MSG", "elements": ["HEADER"]}"#));
            po.parties[0].extensions.push(extension(r#"{"segment": "FOB", "elements": ["PP"], "position": 4}"#));
            po.parties[1].extensions.push(extension(r#"{"segment": "N9", "elements": ["AB", "1"]}"#));
            po.lines[1]
                .extensions
                .push(extension(r#"{"segment": "SLN", "elements": ["1", "", "I", ["2", "3"]], "position": 27}"#));
            po.lines[1].extensions.push(extension(r#"{"segment": "MSG", "elements": ["HI"]}"#));
            po.lines[2].extensions.push(extension(r#"{"segment": "TXI", "elements": ["TX", "1"], "position": 99}"#));
        });
        let (target, header) = (target(&renderer), header(&renderer));
        let straight = renderer.written(&with_extensions, &target, &header).expect("written straight");
        let (through_tree, _) = renderer.through_tree(with_extensions, &target, header).unwrap();
        let text = String::from_utf8(straight).unwrap();
        assert_eq!(text, String::from_utf8(through_tree).unwrap());
        for expected in [
            "ST*850*0001~\nBEG*00*SA*PO-1**20260105*******X~\nCUR*BY*USD~\nN9*ZZ*0~\nFOB*PP~\nREF*DP*042~",
            "NTE*GEN*CALL FIRST~\nMSG*HEADER~\nN1*ST*DC 7",
            "N1*BY*HQ~\nN9*AB*1~\nPO1*1",
            "SLN*1**I*2>3~",
            "DTM*002*20260202~\nMSG*HI~\nPO1**3~",
            "AMT*TT*33.5~\nTXI*TX*1~\nSE*",
        ] {
            assert!(text.contains(expected), "{expected} is not in\n{text}");
        }
        assert_eq!(text.matches("BEG*").count(), 1, "{text}");
    }

    #[test]
    fn orders_the_straight_path_does_not_write_go_through_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let partner = partner(dir.path());
        let renderer = InterchangeRenderer::new(&partner).unwrap();
        let separator = char::from(renderer.layout.delimiters().element);
        let with_separator =
            edited(&|po| po.parties[0].address.as_mut().unwrap().lines[1] = format!("UNIT{separator}5"));
        let extension_with_separator = edited(&|po| {
            po.lines[0].extensions.push(extension(&format!(r#"{{"segment": "MSG", "elements": ["A{separator}B"]}}"#)))
        });
        let bad_tag = edited(&|po| po.extensions.push(extension(r#"{"segment": "msg", "elements": ["HI"]}"#)));
        let without_date = edited(&|po| po.po_date = None);
        for document in [&with_separator, &extension_with_separator, &bad_tag, &without_date] {
            assert!(renderer.written(document, &target(&renderer), &header(&renderer)).is_none());
        }
        // Then the tree words the problems.
        for (document, expected) in [(with_separator, "N302"), (extension_with_separator, "MSG01")] {
            let problems = renderer.transaction_set(document, 1).unwrap_err();
            assert!(problems[0].contains(expected) && problems[0].contains("element separator"), "{problems:?}");
        }
        let problems = renderer.transaction_set(bad_tag, 1).unwrap_err();
        assert!(problems[0].contains("msg is not a valid segment tag"), "{problems:?}");
        let problems = renderer.transaction_set(without_date, 1).unwrap_err();
        assert_eq!(problems, ["po_date is required to render a purchase order"]);
    }
}
