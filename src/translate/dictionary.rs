//! The segments the maps read, as the standards define them: element reference numbers,
//! types, lengths, requirement designators and syntax notes (X12), and the components of
//! EDIFACT composites. Only mapped segments are here; everything else is carried whole.
//!
//! Lengths are the larger of 004010's and 005010's (and of D96A's and D01B's), so that a
//! valid document of either version passes.

use std::sync::atomic::AtomicU64;

/// X12 data element types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Identifier: a code.
    Id,
    /// String.
    An,
    /// Numeric with an implied number of decimals (N0, N2).
    N(u8),
    /// Decimal number with an explicit decimal point.
    R,
    /// Date, CCYYMMDD (YYMMDD in versions before 004).
    Dt,
    /// Time, HHMM[SS[d[d]]].
    Tm,
}

/// Requirement designator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    Mandatory,
    Optional,
    /// Conditional: governed by the segment's syntax notes.
    Conditional,
}

#[derive(Clone, Copy, Debug)]
pub struct ElementDef {
    pub reference: u16,
    pub name: &'static str,
    pub kind: Kind,
    pub min: u16,
    pub max: u16,
    pub usage: Usage,
}

/// X12 syntax notes (element positions are 1-based).
#[derive(Clone, Copy, Debug)]
pub enum SyntaxNote {
    /// P: if any is present, all are required.
    Paired(&'static [u8]),
    /// R: at least one is required.
    Required(&'static [u8]),
    /// E: not more than one may be present.
    Exclusion(&'static [u8]),
    /// C: if the first is present, all the others are required.
    Conditional(&'static [u8]),
    /// L: if the first is present, at least one of the others is required.
    ListConditional(&'static [u8]),
}

impl SyntaxNote {
    /// The element positions the note names, in its order.
    pub const fn positions(&self) -> &'static [u8] {
        match self {
            SyntaxNote::Paired(p)
            | SyntaxNote::Required(p)
            | SyntaxNote::Exclusion(p)
            | SyntaxNote::Conditional(p)
            | SyntaxNote::ListConditional(p) => p,
        }
    }

    /// The note as the standards write it: `P0607`.
    pub fn label(&self) -> String {
        let (letter, positions) = match self {
            SyntaxNote::Paired(p) => ('P', p),
            SyntaxNote::Required(p) => ('R', p),
            SyntaxNote::Exclusion(p) => ('E', p),
            SyntaxNote::Conditional(p) => ('C', p),
            SyntaxNote::ListConditional(p) => ('L', p),
        };
        let mut label = letter.to_string();
        for p in positions.iter() {
            label.push_str(&format!("{p:02}"));
        }
        label
    }
}

#[derive(Debug)]
pub struct SegmentDef {
    pub tag: &'static str,
    pub name: &'static str,
    pub elements: &'static [ElementDef],
    pub notes: &'static [SyntaxNote],
    /// The mandatory elements, as bits (element 1 in bit 0).
    pub mandatory: u64,
    /// Each note's elements and its first element, as bits, in the order of `notes`.
    pub note_elements: [(u64, u64); MAX_NOTES],
    /// The last elements present (as bits) with which every note held, or `u64::MAX`
    /// before any: the segments of a kind in a file nearly always use the same elements, so
    /// `validate::x12_cut` tests the notes once per pattern rather than once per segment.
    /// Whether the notes hold is a function of the bits alone, so any thread may set it.
    pub(crate) notes_held_with: AtomicU64,
}

/// The most syntax notes a segment definition has (PO1 has twelve).
pub const MAX_NOTES: usize = 16;

impl SegmentDef {
    /// A definition, with its elements and notes also as bits for the validation's fast
    /// path. Fails to compile past 64 elements or `MAX_NOTES` notes, or with a note naming an
    /// element the definition lacks.
    pub(crate) const fn new(
        tag: &'static str,
        name: &'static str,
        elements: &'static [ElementDef],
        notes: &'static [SyntaxNote],
    ) -> Self {
        assert!(elements.len() <= 64 && notes.len() <= MAX_NOTES);
        let mut mandatory = 0;
        let mut i = 0;
        while i < elements.len() {
            if matches!(elements[i].usage, Usage::Mandatory) {
                mandatory |= 1 << i;
            }
            i += 1;
        }
        let mut note_elements = [(0, 0); MAX_NOTES];
        let mut n = 0;
        while n < notes.len() {
            let positions = notes[n].positions();
            assert!(!positions.is_empty());
            let mut p = 0;
            while p < positions.len() {
                assert!(positions[p] >= 1 && positions[p] as usize <= elements.len());
                note_elements[n].0 |= 1 << (positions[p] - 1);
                p += 1;
            }
            note_elements[n].1 = 1 << (positions[0] - 1);
            n += 1;
        }
        SegmentDef { tag, name, elements, notes, mandatory, note_elements, notes_held_with: AtomicU64::new(u64::MAX) }
    }
}

const fn e(reference: u16, name: &'static str, kind: Kind, min: u16, max: u16, usage: Usage) -> ElementDef {
    ElementDef { reference, name, kind, min, max, usage }
}

use Kind::{An, Dt, Id, Tm, N, R};
use Usage::{Conditional as X, Mandatory as M, Optional as O};

const ID_QUALIFIER: ElementDef = e(235, "product/service id qualifier", Id, 2, 2, X);
const ID_VALUE: ElementDef = e(234, "product/service id", An, 1, 48, X);
const UOM: ElementDef = e(355, "unit or basis for measurement code", Id, 2, 2, X);

pub static BEG: SegmentDef = SegmentDef::new(
    "BEG",
    "beginning segment for purchase order",
    &[
        e(353, "transaction set purpose code", Id, 2, 2, M),
        e(92, "purchase order type code", Id, 2, 2, M),
        e(324, "purchase order number", An, 1, 22, M),
        e(328, "release number", An, 1, 30, O),
        e(373, "purchase order date", Dt, 6, 8, M),
        e(367, "contract number", An, 1, 30, O),
        e(587, "acknowledgment type", Id, 2, 2, O),
        e(1019, "invoice type code", Id, 3, 3, O),
        e(1166, "contract type code", Id, 2, 2, O),
        e(1232, "purchase category", Id, 2, 2, O),
        e(786, "security level code", Id, 2, 2, O),
        e(640, "transaction type code", Id, 2, 2, O),
    ],
    &[],
);

pub static CUR: SegmentDef = SegmentDef::new(
    "CUR",
    "currency",
    &[
        e(98, "entity identifier code", Id, 2, 3, M),
        e(100, "currency code", Id, 3, 3, M),
        e(280, "exchange rate", R, 4, 10, O),
    ],
    &[],
);

pub static REF: SegmentDef = SegmentDef::new(
    "REF",
    "reference identification",
    &[
        e(128, "reference identification qualifier", Id, 2, 3, M),
        e(127, "reference identification", An, 1, 50, X),
        e(352, "description", An, 1, 80, X),
    ],
    &[SyntaxNote::Required(&[2, 3])],
);

pub static PER: SegmentDef = SegmentDef::new(
    "PER",
    "administrative communications contact",
    &[
        e(366, "contact function code", Id, 2, 2, M),
        e(93, "name", An, 1, 60, O),
        e(365, "communication number qualifier", Id, 2, 2, X),
        e(364, "communication number", An, 1, 256, X),
        e(365, "communication number qualifier", Id, 2, 2, X),
        e(364, "communication number", An, 1, 256, X),
        e(365, "communication number qualifier", Id, 2, 2, X),
        e(364, "communication number", An, 1, 256, X),
        e(443, "contact inquiry reference", An, 1, 20, O),
    ],
    &[SyntaxNote::Paired(&[3, 4]), SyntaxNote::Paired(&[5, 6]), SyntaxNote::Paired(&[7, 8])],
);

pub static DTM: SegmentDef = SegmentDef::new(
    "DTM",
    "date/time reference",
    &[
        e(374, "date/time qualifier", Id, 3, 3, M),
        e(373, "date", Dt, 6, 8, X),
        e(337, "time", Tm, 4, 8, X),
        e(623, "time code", Id, 2, 2, O),
        e(1250, "date time period format qualifier", Id, 2, 3, X),
        e(1251, "date time period", An, 1, 35, X),
    ],
    &[SyntaxNote::Required(&[2, 3, 5]), SyntaxNote::Conditional(&[4, 3]), SyntaxNote::Paired(&[5, 6])],
);

pub static N1: SegmentDef = SegmentDef::new(
    "N1",
    "party identification",
    &[
        e(98, "entity identifier code", Id, 2, 3, M),
        e(93, "name", An, 1, 60, X),
        e(66, "identification code qualifier", Id, 1, 2, X),
        e(67, "identification code", An, 2, 80, X),
        e(706, "entity relationship code", Id, 2, 2, O),
        e(98, "entity identifier code", Id, 2, 3, O),
    ],
    &[SyntaxNote::Required(&[2, 3]), SyntaxNote::Paired(&[3, 4])],
);

pub static N2: SegmentDef = SegmentDef::new(
    "N2",
    "additional name information",
    &[e(93, "name", An, 1, 60, M), e(93, "name", An, 1, 60, O)],
    &[],
);

pub static N3: SegmentDef = SegmentDef::new(
    "N3",
    "party location",
    &[e(166, "address information", An, 1, 55, M), e(166, "address information", An, 1, 55, O)],
    &[],
);

pub static N4: SegmentDef = SegmentDef::new(
    "N4",
    "geographic location",
    &[
        e(19, "city name", An, 2, 30, O),
        e(156, "state or province code", Id, 2, 2, O),
        e(116, "postal code", Id, 3, 15, O),
        e(26, "country code", Id, 2, 3, O),
        e(309, "location qualifier", Id, 1, 2, X),
        e(310, "location identifier", An, 1, 30, O),
        e(1715, "country subdivision code", Id, 1, 3, X),
    ],
    &[SyntaxNote::Conditional(&[6, 5]), SyntaxNote::Conditional(&[7, 4])],
);

pub static PO1: SegmentDef = SegmentDef::new(
    "PO1",
    "baseline item data",
    &[
        e(350, "assigned identification", An, 1, 20, O),
        e(330, "quantity ordered", R, 1, 15, X),
        e(355, "unit or basis for measurement code", Id, 2, 2, O),
        e(212, "unit price", R, 1, 17, X),
        e(639, "basis of unit price code", Id, 2, 2, O),
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
    ],
    &[
        SyntaxNote::Conditional(&[3, 2]),
        SyntaxNote::Conditional(&[5, 4]),
        SyntaxNote::Paired(&[6, 7]),
        SyntaxNote::Paired(&[8, 9]),
        SyntaxNote::Paired(&[10, 11]),
        SyntaxNote::Paired(&[12, 13]),
        SyntaxNote::Paired(&[14, 15]),
        SyntaxNote::Paired(&[16, 17]),
        SyntaxNote::Paired(&[18, 19]),
        SyntaxNote::Paired(&[20, 21]),
        SyntaxNote::Paired(&[22, 23]),
        SyntaxNote::Paired(&[24, 25]),
    ],
);

pub static PID: SegmentDef = SegmentDef::new(
    "PID",
    "product/item description",
    &[
        e(349, "item description type", Id, 1, 1, M),
        e(750, "product/process characteristic code", Id, 2, 3, O),
        e(559, "agency qualifier code", Id, 2, 2, X),
        e(751, "product description code", An, 1, 12, X),
        e(352, "description", An, 1, 80, X),
        e(752, "surface/layer/position code", Id, 2, 2, O),
        e(822, "source subqualifier", An, 1, 15, O),
        e(1073, "yes/no condition or response code", Id, 1, 1, O),
        e(819, "language code", Id, 2, 3, O),
    ],
    &[SyntaxNote::Conditional(&[4, 3]), SyntaxNote::Required(&[4, 5]), SyntaxNote::Conditional(&[7, 3])],
);

pub static PO4: SegmentDef = SegmentDef::new(
    "PO4",
    "item physical details",
    &[
        e(356, "pack", N(0), 1, 6, O),
        e(357, "size", R, 1, 8, X),
        e(355, "unit or basis for measurement code", Id, 2, 2, X),
        e(103, "packaging code", An, 3, 5, X),
        e(187, "weight qualifier", Id, 1, 2, O),
        e(384, "gross weight per pack", R, 1, 9, X),
        UOM,
        e(385, "gross volume per pack", R, 1, 9, X),
        UOM,
        e(82, "length", R, 1, 8, X),
        e(189, "width", R, 1, 8, X),
        e(65, "height", R, 1, 8, X),
        UOM,
        e(810, "inner pack", N(0), 1, 6, O),
        e(752, "surface/layer/position code", Id, 2, 2, O),
        e(350, "assigned identification", An, 1, 20, X),
        e(350, "assigned identification", An, 1, 20, X),
        e(1470, "number", N(0), 1, 9, O),
    ],
    &[
        SyntaxNote::Paired(&[2, 3]),
        SyntaxNote::Conditional(&[5, 6]),
        SyntaxNote::Paired(&[6, 7]),
        SyntaxNote::Paired(&[8, 9]),
        SyntaxNote::Conditional(&[10, 13]),
        SyntaxNote::Conditional(&[11, 13]),
        SyntaxNote::Conditional(&[12, 13]),
    ],
);

pub static CTT: SegmentDef = SegmentDef::new(
    "CTT",
    "transaction totals",
    &[
        e(354, "number of line items", N(0), 1, 6, M),
        e(347, "hash total", R, 1, 10, O),
        e(81, "weight", R, 1, 10, X),
        UOM,
        e(183, "volume", R, 1, 8, X),
        UOM,
        e(352, "description", An, 1, 80, O),
    ],
    &[SyntaxNote::Paired(&[3, 4]), SyntaxNote::Paired(&[5, 6])],
);

pub static AMT: SegmentDef = SegmentDef::new(
    "AMT",
    "monetary amount",
    &[
        e(522, "amount qualifier code", Id, 1, 3, M),
        e(782, "monetary amount", R, 1, 18, M),
        e(478, "credit/debit flag code", Id, 1, 1, O),
    ],
    &[],
);

pub static MSG: SegmentDef = SegmentDef::new(
    "MSG",
    "message text",
    &[
        e(933, "free-form message text", An, 1, 264, M),
        e(934, "printer carriage control code", Id, 2, 2, X),
        e(1470, "number", N(0), 1, 9, O),
    ],
    &[SyntaxNote::Conditional(&[3, 2])],
);

pub static NTE: SegmentDef = SegmentDef::new(
    "NTE",
    "note/special instruction",
    &[e(363, "note reference code", Id, 3, 3, O), e(352, "description", An, 1, 80, M)],
    &[],
);

pub static BAK: SegmentDef = SegmentDef::new(
    "BAK",
    "beginning segment for purchase order acknowledgment",
    &[
        e(353, "transaction set purpose code", Id, 2, 2, M),
        e(587, "acknowledgment type", Id, 2, 2, M),
        e(324, "purchase order number", An, 1, 22, M),
        e(373, "purchase order date", Dt, 6, 8, M),
        e(328, "release number", An, 1, 30, O),
        e(326, "request reference number", An, 1, 45, O),
        e(367, "contract number", An, 1, 30, O),
        e(127, "reference identification", An, 1, 50, O),
        e(373, "acknowledgment date", Dt, 6, 8, O),
        e(640, "transaction type code", Id, 2, 2, O),
    ],
    &[],
);

pub static ACK: SegmentDef = SegmentDef::new(
    "ACK",
    "line item acknowledgment",
    &[
        e(668, "line item status code", Id, 2, 2, M),
        e(380, "quantity", R, 1, 15, X),
        e(355, "unit or basis for measurement code", Id, 2, 2, X),
        e(374, "date/time qualifier", Id, 3, 3, X),
        e(373, "date", Dt, 6, 8, O),
        e(326, "request reference number", An, 1, 45, O),
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        e(559, "agency qualifier code", Id, 2, 2, X),
        e(822, "source subqualifier", An, 1, 15, X),
        e(1271, "industry code", An, 1, 30, X),
    ],
    &[
        SyntaxNote::Paired(&[2, 3]),
        SyntaxNote::Conditional(&[4, 5]),
        SyntaxNote::Paired(&[7, 8]),
        SyntaxNote::Paired(&[9, 10]),
        SyntaxNote::Paired(&[11, 12]),
        SyntaxNote::Paired(&[13, 14]),
        SyntaxNote::Paired(&[15, 16]),
        SyntaxNote::Paired(&[17, 18]),
        SyntaxNote::Paired(&[19, 20]),
        SyntaxNote::Paired(&[21, 22]),
        SyntaxNote::Paired(&[23, 24]),
        SyntaxNote::Paired(&[25, 26]),
        SyntaxNote::Conditional(&[27, 29]),
    ],
);

pub static BSN: SegmentDef = SegmentDef::new(
    "BSN",
    "beginning segment for ship notice",
    &[
        e(353, "transaction set purpose code", Id, 2, 2, M),
        e(396, "shipment identification", An, 2, 30, M),
        e(373, "date", Dt, 6, 8, M),
        e(337, "time", Tm, 4, 8, M),
        e(1005, "hierarchical structure code", Id, 4, 4, O),
        e(640, "transaction type code", Id, 2, 2, X),
        e(641, "status reason code", Id, 3, 3, O),
    ],
    &[SyntaxNote::Conditional(&[7, 6])],
);

pub static HL: SegmentDef = SegmentDef::new(
    "HL",
    "hierarchical level",
    &[
        e(628, "hierarchical id number", An, 1, 12, M),
        e(734, "hierarchical parent id number", An, 1, 12, O),
        e(735, "hierarchical level code", Id, 1, 2, M),
        e(736, "hierarchical child code", Id, 1, 1, O),
    ],
    &[],
);

pub static TD1: SegmentDef = SegmentDef::new(
    "TD1",
    "carrier details (quantity and weight)",
    &[
        e(103, "packaging code", An, 3, 5, O),
        e(80, "lading quantity", N(0), 1, 7, X),
        e(23, "commodity code qualifier", Id, 1, 1, O),
        e(22, "commodity code", An, 1, 30, X),
        e(79, "lading description", An, 1, 50, O),
        e(187, "weight qualifier", Id, 1, 2, O),
        e(81, "weight", R, 1, 10, X),
        UOM,
        e(183, "volume", R, 1, 8, X),
        UOM,
    ],
    &[
        SyntaxNote::Conditional(&[1, 2]),
        SyntaxNote::Conditional(&[3, 4]),
        SyntaxNote::Conditional(&[6, 7]),
        SyntaxNote::Paired(&[7, 8]),
        SyntaxNote::Paired(&[9, 10]),
    ],
);

pub static TD5: SegmentDef = SegmentDef::new(
    "TD5",
    "carrier details (routing sequence/transit time)",
    &[
        e(133, "routing sequence code", Id, 1, 2, O),
        e(66, "identification code qualifier", Id, 1, 2, X),
        e(67, "identification code", An, 2, 80, X),
        e(91, "transportation method/type code", Id, 1, 2, X),
        e(387, "routing", An, 1, 35, X),
        e(368, "shipment/order status code", Id, 2, 2, X),
        e(309, "location qualifier", Id, 1, 2, O),
        e(310, "location identifier", An, 1, 30, X),
        e(731, "transit direction code", Id, 2, 2, O),
        e(732, "transit time direction qualifier", Id, 2, 2, O),
        e(733, "transit time", R, 1, 4, X),
        e(284, "service level code", Id, 2, 2, X),
        e(284, "service level code", Id, 2, 2, X),
        e(284, "service level code", Id, 2, 2, X),
        e(26, "country code", Id, 2, 3, O),
    ],
    &[
        SyntaxNote::Required(&[2, 4, 5, 6, 12]),
        SyntaxNote::Conditional(&[2, 3]),
        SyntaxNote::Conditional(&[7, 8]),
        SyntaxNote::Conditional(&[10, 11]),
    ],
);

pub static MAN: SegmentDef = SegmentDef::new(
    "MAN",
    "marks and numbers",
    &[
        e(88, "marks and numbers qualifier", Id, 1, 2, M),
        e(87, "marks and numbers", An, 1, 48, M),
        e(87, "marks and numbers", An, 1, 48, O),
        e(88, "marks and numbers qualifier", Id, 1, 2, X),
        e(87, "marks and numbers", An, 1, 48, X),
        e(87, "marks and numbers", An, 1, 48, O),
    ],
    &[SyntaxNote::Paired(&[4, 5])],
);

pub static LIN: SegmentDef = SegmentDef::new(
    "LIN",
    "item identification",
    &[
        e(350, "assigned identification", An, 1, 20, O),
        e(235, "product/service id qualifier", Id, 2, 2, M),
        e(234, "product/service id", An, 1, 48, M),
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
        ID_QUALIFIER,
        ID_VALUE,
    ],
    &[
        SyntaxNote::Paired(&[4, 5]),
        SyntaxNote::Paired(&[6, 7]),
        SyntaxNote::Paired(&[8, 9]),
        SyntaxNote::Paired(&[10, 11]),
        SyntaxNote::Paired(&[12, 13]),
        SyntaxNote::Paired(&[14, 15]),
        SyntaxNote::Paired(&[16, 17]),
        SyntaxNote::Paired(&[18, 19]),
        SyntaxNote::Paired(&[20, 21]),
        SyntaxNote::Paired(&[22, 23]),
        SyntaxNote::Paired(&[24, 25]),
        SyntaxNote::Paired(&[26, 27]),
        SyntaxNote::Paired(&[28, 29]),
        SyntaxNote::Paired(&[30, 31]),
    ],
);

pub static SN1: SegmentDef = SegmentDef::new(
    "SN1",
    "item detail (shipment)",
    &[
        e(350, "assigned identification", An, 1, 20, O),
        e(382, "number of units shipped", R, 1, 10, M),
        e(355, "unit or basis for measurement code", Id, 2, 2, M),
        e(646, "quantity shipped to date", R, 1, 15, O),
        e(330, "quantity ordered", R, 1, 15, X),
        UOM,
        e(728, "returnable container load make-up code", Id, 1, 2, O),
        e(668, "line item status code", Id, 2, 2, O),
    ],
    &[SyntaxNote::Paired(&[5, 6])],
);

pub static PRF: SegmentDef = SegmentDef::new(
    "PRF",
    "purchase order reference",
    &[
        e(324, "purchase order number", An, 1, 22, M),
        e(328, "release number", An, 1, 30, O),
        e(327, "change order sequence number", An, 1, 8, O),
        e(373, "purchase order date", Dt, 6, 8, O),
        e(350, "assigned identification", An, 1, 20, O),
        e(367, "contract number", An, 1, 30, O),
        e(92, "purchase order type code", Id, 2, 2, O),
    ],
    &[],
);

// ---- EDIFACT ---------------------------------------------------------------------------

/// EDIFACT data representation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdiKind {
    /// Alphanumeric (`an`).
    An,
    /// Numeric (`n`), written with the interchange's decimal mark.
    N,
}

#[derive(Clone, Copy, Debug)]
pub struct ComponentDef {
    pub code: u16,
    pub name: &'static str,
    pub kind: EdiKind,
    pub max: u16,
    pub mandatory: bool,
}

/// An EDIFACT element: a simple data element (one component) or a composite.
#[derive(Clone, Copy, Debug)]
pub struct EdiElementDef {
    pub code: &'static str,
    pub mandatory: bool,
    pub components: &'static [ComponentDef],
}

#[derive(Debug)]
pub struct EdiSegmentDef {
    pub tag: &'static str,
    pub name: &'static str,
    pub elements: &'static [EdiElementDef],
}

const fn c(code: u16, name: &'static str, kind: EdiKind, max: u16, mandatory: bool) -> ComponentDef {
    ComponentDef { code, name, kind, max, mandatory }
}

const fn el(code: &'static str, mandatory: bool, components: &'static [ComponentDef]) -> EdiElementDef {
    EdiElementDef { code, mandatory, components }
}

use EdiKind::{An as A, N as Num};

const C212: &[ComponentDef] = &[
    c(7140, "item identifier", A, 35, false),
    c(7143, "item type identification code", A, 3, false),
    c(1131, "code list identification code", A, 17, false),
    c(3055, "code list responsible agency code", A, 3, false),
];

pub static BGM: EdiSegmentDef = EdiSegmentDef {
    tag: "BGM",
    name: "beginning of message",
    elements: &[
        el(
            "C002",
            false,
            &[
                c(1001, "document name code", A, 3, false),
                c(1131, "code list identification code", A, 17, false),
                c(3055, "code list responsible agency code", A, 3, false),
                c(1000, "document name", A, 35, false),
            ],
        ),
        el(
            "C106",
            false,
            &[
                c(1004, "document identifier", A, 35, false),
                c(1056, "version identifier", A, 9, false),
                c(1060, "revision identifier", A, 6, false),
            ],
        ),
        el("1225", false, &[c(1225, "message function code", A, 3, false)]),
        el("4343", false, &[c(4343, "response type code", A, 3, false)]),
    ],
};

pub static EDI_DTM: EdiSegmentDef = EdiSegmentDef {
    tag: "DTM",
    name: "date/time/period",
    elements: &[el(
        "C507",
        true,
        &[
            c(2005, "date or time or period function code qualifier", A, 3, true),
            c(2380, "date or time or period text", A, 35, false),
            c(2379, "date or time or period format code", A, 3, false),
        ],
    )],
};

pub static RFF: EdiSegmentDef = EdiSegmentDef {
    tag: "RFF",
    name: "reference",
    elements: &[el(
        "C506",
        true,
        &[
            c(1153, "reference code qualifier", A, 3, true),
            c(1154, "reference identifier", A, 70, false),
            c(1156, "document line identifier", A, 6, false),
            c(4000, "reference version identifier", A, 35, false),
            c(1060, "revision identifier", A, 6, false),
        ],
    )],
};

pub static NAD: EdiSegmentDef = EdiSegmentDef {
    tag: "NAD",
    name: "name and address",
    elements: &[
        el("3035", true, &[c(3035, "party function code qualifier", A, 3, true)]),
        el(
            "C082",
            false,
            &[
                c(3039, "party identifier", A, 35, true),
                c(1131, "code list identification code", A, 17, false),
                c(3055, "code list responsible agency code", A, 3, false),
            ],
        ),
        el(
            "C058",
            false,
            &[
                c(3124, "name and address description", A, 35, true),
                c(3124, "name and address description", A, 35, false),
                c(3124, "name and address description", A, 35, false),
                c(3124, "name and address description", A, 35, false),
                c(3124, "name and address description", A, 35, false),
            ],
        ),
        el(
            "C080",
            false,
            &[
                c(3036, "party name", A, 70, true),
                c(3036, "party name", A, 70, false),
                c(3036, "party name", A, 70, false),
                c(3036, "party name", A, 70, false),
                c(3036, "party name", A, 70, false),
                c(3045, "party name format code", A, 3, false),
            ],
        ),
        el(
            "C059",
            false,
            &[
                c(3042, "street and number or post office box identifier", A, 35, true),
                c(3042, "street and number or post office box identifier", A, 35, false),
                c(3042, "street and number or post office box identifier", A, 35, false),
                c(3042, "street and number or post office box identifier", A, 35, false),
            ],
        ),
        el("3164", false, &[c(3164, "city name", A, 35, false)]),
        el(
            "C819",
            false,
            &[
                c(3229, "country subdivision identifier", A, 9, false),
                c(1131, "code list identification code", A, 17, false),
                c(3055, "code list responsible agency code", A, 3, false),
                c(3228, "country subdivision name", A, 70, false),
            ],
        ),
        el("3251", false, &[c(3251, "postal identification code", A, 17, false)]),
        el("3207", false, &[c(3207, "country identifier", A, 3, false)]),
    ],
};

pub static CTA: EdiSegmentDef = EdiSegmentDef {
    tag: "CTA",
    name: "contact information",
    elements: &[
        el("3139", false, &[c(3139, "contact function code", A, 3, false)]),
        el("C056", false, &[c(3413, "contact identifier", A, 17, false), c(3412, "contact name", A, 256, false)]),
    ],
};

pub static COM: EdiSegmentDef = EdiSegmentDef {
    tag: "COM",
    name: "communication contact",
    elements: &[el(
        "C076",
        true,
        &[
            c(3148, "communication address identifier", A, 512, true),
            c(3155, "communication means type code", A, 3, true),
        ],
    )],
};

pub static CUX: EdiSegmentDef = EdiSegmentDef {
    tag: "CUX",
    name: "currencies",
    elements: &[el(
        "C504",
        false,
        &[
            c(6347, "currency usage code qualifier", A, 3, true),
            c(6345, "currency identification code", A, 3, false),
            c(6343, "currency type code qualifier", A, 3, false),
            c(6348, "currency rate", Num, 4, false),
        ],
    )],
};

pub static FTX: EdiSegmentDef = EdiSegmentDef {
    tag: "FTX",
    name: "free text",
    elements: &[
        el("4451", true, &[c(4451, "text subject code qualifier", A, 3, true)]),
        el("4453", false, &[c(4453, "free text function code", A, 3, false)]),
        el(
            "C107",
            false,
            &[
                c(4441, "free text description code", A, 17, true),
                c(1131, "code list identification code", A, 17, false),
                c(3055, "code list responsible agency code", A, 3, false),
            ],
        ),
        el(
            "C108",
            false,
            &[
                c(4440, "free text", A, 512, true),
                c(4440, "free text", A, 512, false),
                c(4440, "free text", A, 512, false),
                c(4440, "free text", A, 512, false),
                c(4440, "free text", A, 512, false),
            ],
        ),
        el("3453", false, &[c(3453, "language name code", A, 3, false)]),
        el("4447", false, &[c(4447, "free text format code", A, 3, false)]),
    ],
};

pub static EDI_LIN: EdiSegmentDef = EdiSegmentDef {
    tag: "LIN",
    name: "line item",
    elements: &[
        el("1082", false, &[c(1082, "line item identifier", A, 6, false)]),
        el("1229", false, &[c(1229, "action code", A, 3, false)]),
        el("C212", false, C212),
        el(
            "C829",
            false,
            &[c(5495, "sub-line indicator code", A, 3, true), c(1082, "line item identifier", A, 6, false)],
        ),
        el("1222", false, &[c(1222, "configuration level number", Num, 2, false)]),
        el("7083", false, &[c(7083, "configuration operation code", A, 3, false)]),
    ],
};

pub static PIA: EdiSegmentDef = EdiSegmentDef {
    tag: "PIA",
    name: "additional product id",
    elements: &[
        el("4347", true, &[c(4347, "product identifier code qualifier", A, 3, true)]),
        el("C212", true, C212),
        el("C212", false, C212),
        el("C212", false, C212),
        el("C212", false, C212),
        el("C212", false, C212),
    ],
};

pub static IMD: EdiSegmentDef = EdiSegmentDef {
    tag: "IMD",
    name: "item description",
    elements: &[
        el("7077", false, &[c(7077, "description format code", A, 3, false)]),
        el(
            "C272",
            false,
            &[
                c(7081, "item characteristic code", A, 3, false),
                c(1131, "code list identification code", A, 17, false),
                c(3055, "code list responsible agency code", A, 3, false),
            ],
        ),
        el(
            "C273",
            false,
            &[
                c(7009, "item description code", A, 17, false),
                c(1131, "code list identification code", A, 17, false),
                c(3055, "code list responsible agency code", A, 3, false),
                c(7008, "item description", A, 256, false),
                c(7008, "item description", A, 256, false),
                c(3453, "language name code", A, 3, false),
            ],
        ),
        el("7383", false, &[c(7383, "surface or layer code", A, 3, false)]),
    ],
};

pub static QTY: EdiSegmentDef = EdiSegmentDef {
    tag: "QTY",
    name: "quantity",
    elements: &[el(
        "C186",
        true,
        &[
            c(6063, "quantity type code qualifier", A, 3, true),
            c(6060, "quantity", Num, 35, true),
            c(6411, "measurement unit code", A, 8, false),
        ],
    )],
};

pub static PRI: EdiSegmentDef = EdiSegmentDef {
    tag: "PRI",
    name: "price details",
    elements: &[
        el(
            "C509",
            false,
            &[
                c(5125, "price code qualifier", A, 3, true),
                c(5118, "price amount", Num, 15, false),
                c(5375, "price type code", A, 3, false),
                c(5387, "price specification code", A, 3, false),
                c(5284, "unit price basis quantity", Num, 9, false),
                c(6411, "measurement unit code", A, 8, false),
            ],
        ),
        el("5213", false, &[c(5213, "sub-line item price change operation code", A, 3, false)]),
    ],
};

pub static CNT: EdiSegmentDef = EdiSegmentDef {
    tag: "CNT",
    name: "control total",
    elements: &[el(
        "C270",
        true,
        &[
            c(6069, "control total type code qualifier", A, 3, true),
            c(6066, "control total quantity", Num, 18, true),
            c(6411, "measurement unit code", A, 8, false),
        ],
    )],
};

pub static MOA: EdiSegmentDef = EdiSegmentDef {
    tag: "MOA",
    name: "monetary amount",
    elements: &[el(
        "C516",
        true,
        &[
            c(5025, "monetary amount type code qualifier", A, 3, true),
            c(5004, "monetary amount", Num, 35, false),
            c(6345, "currency identification code", A, 3, false),
            c(6343, "currency type code qualifier", A, 3, false),
            c(4405, "status description code", A, 3, false),
        ],
    )],
};

pub static TDT: EdiSegmentDef = EdiSegmentDef {
    tag: "TDT",
    name: "transport information",
    elements: &[
        el("8051", true, &[c(8051, "transport stage code qualifier", A, 3, true)]),
        el("8028", false, &[c(8028, "means of transport journey identifier", A, 17, false)]),
        el(
            "C220",
            false,
            &[c(8067, "transport mode name code", A, 3, false), c(8066, "transport mode name", A, 17, false)],
        ),
        el(
            "C228",
            false,
            &[
                c(8179, "transport means description code", A, 8, false),
                c(8178, "transport means description", A, 17, false),
            ],
        ),
        el(
            "C040",
            false,
            &[
                c(3127, "carrier identifier", A, 17, false),
                c(1131, "code list identification code", A, 17, false),
                c(3055, "code list responsible agency code", A, 3, false),
                c(3128, "carrier name", A, 35, false),
            ],
        ),
    ],
};

pub static CPS: EdiSegmentDef = EdiSegmentDef {
    tag: "CPS",
    name: "consignment packing sequence",
    elements: &[
        el("7164", true, &[c(7164, "hierarchical structure level identifier", A, 35, true)]),
        el("7166", false, &[c(7166, "hierarchical structure parent identifier", A, 35, false)]),
        el("7075", false, &[c(7075, "packaging level code", A, 3, false)]),
    ],
};

pub static PAC: EdiSegmentDef = EdiSegmentDef {
    tag: "PAC",
    name: "package",
    elements: &[
        el("7224", false, &[c(7224, "package quantity", Num, 8, false)]),
        el(
            "C531",
            false,
            &[
                c(7075, "packaging level code", A, 3, false),
                c(7233, "packaging related description code", A, 3, false),
                c(7073, "packaging terms and conditions code", A, 3, false),
            ],
        ),
        el(
            "C202",
            false,
            &[
                c(7065, "package type description code", A, 17, false),
                c(1131, "code list identification code", A, 17, false),
                c(3055, "code list responsible agency code", A, 3, false),
                c(7064, "type of packages", A, 35, false),
            ],
        ),
    ],
};

pub static GIN: EdiSegmentDef = EdiSegmentDef {
    tag: "GIN",
    name: "goods identity number",
    elements: &[
        el("7405", true, &[c(7405, "object identification code qualifier", A, 3, true)]),
        el("C208", true, &[c(7402, "object identifier", A, 35, true), c(7402, "object identifier", A, 35, false)]),
    ],
};

pub static MEA: EdiSegmentDef = EdiSegmentDef {
    tag: "MEA",
    name: "measurements",
    elements: &[
        el("6311", true, &[c(6311, "measurement purpose code qualifier", A, 3, true)]),
        el(
            "C502",
            false,
            &[
                c(6313, "measured attribute code", A, 3, false),
                c(6321, "measurement significance code", A, 3, false),
                c(6155, "non-discrete measurement name code", A, 17, false),
                c(6154, "non-discrete measurement name", A, 70, false),
            ],
        ),
        el(
            "C174",
            false,
            &[
                c(6411, "measurement unit code", A, 8, true),
                c(6314, "measurement value", Num, 18, false),
                c(6162, "range minimum value", Num, 18, false),
                c(6152, "range maximum value", Num, 18, false),
                c(6432, "significant digits quantity", Num, 2, false),
            ],
        ),
    ],
};

/// The definition of an X12 segment the maps read, by tag.
pub fn x12_segment(tag: &str) -> Option<&'static SegmentDef> {
    Some(match tag {
        "BEG" => &BEG,
        "CUR" => &CUR,
        "REF" => &REF,
        "PER" => &PER,
        "DTM" => &DTM,
        "N1" => &N1,
        "N2" => &N2,
        "N3" => &N3,
        "N4" => &N4,
        "PO1" => &PO1,
        "PID" => &PID,
        "PO4" => &PO4,
        "CTT" => &CTT,
        "AMT" => &AMT,
        "MSG" => &MSG,
        "NTE" => &NTE,
        "BAK" => &BAK,
        "ACK" => &ACK,
        "BSN" => &BSN,
        "HL" => &HL,
        "TD1" => &TD1,
        "TD5" => &TD5,
        "MAN" => &MAN,
        "LIN" => &LIN,
        "SN1" => &SN1,
        "PRF" => &PRF,
        _ => return None,
    })
}

/// The definition of an EDIFACT segment the maps read, by tag.
pub fn edifact_segment(tag: &str) -> Option<&'static EdiSegmentDef> {
    Some(match tag {
        "BGM" => &BGM,
        "DTM" => &EDI_DTM,
        "RFF" => &RFF,
        "NAD" => &NAD,
        "CTA" => &CTA,
        "COM" => &COM,
        "CUX" => &CUX,
        "FTX" => &FTX,
        "LIN" => &EDI_LIN,
        "PIA" => &PIA,
        "IMD" => &IMD,
        "QTY" => &QTY,
        "PRI" => &PRI,
        "CNT" => &CNT,
        "MOA" => &MOA,
        "TDT" => &TDT,
        "CPS" => &CPS,
        "PAC" => &PAC,
        "GIN" => &GIN,
        "MEA" => &MEA,
        _ => return None,
    })
}
