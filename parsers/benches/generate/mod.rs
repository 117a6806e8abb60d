//! Deterministic generators of realistic benchmark interchanges: X12 850 and 856 (004010,
//! VICS-style) and EDIFACT ORDERS (D96A, EANCOM-style). Shared by the criterion benchmark
//! and the `generate` example, so anyone can make the same files:
//!
//! ```text
//! cargo run --release -p crossdock-parsers --example generate -- 850 50 > 850.edi
//! ```

use std::fmt::Write as _;

/// Transaction sets per interchange: real batches hold tens to thousands.
const SETS_PER_INTERCHANGE: usize = 500;

/// A small deterministic generator (xorshift), so files are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

const WORDS: &[&str] =
    &["WIDGET", "BRACKET", "HINGE", "BOLT", "ANCHOR", "PANEL", "CABLE", "VALVE", "GASKET", "FILTER", "LAMP", "SWITCH"];

fn description(rng: &mut Rng) -> String {
    let a = WORDS[rng.range(0, WORDS.len() as u64 - 1) as usize];
    let b = WORDS[rng.range(0, WORDS.len() as u64 - 1) as usize];
    format!("{a} {b} {}MM", rng.range(5, 500))
}

fn price(rng: &mut Rng) -> String {
    format!("{}.{:02}", rng.range(1, 400), rng.range(0, 99))
}

/// Which document to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    X12_850,
    X12_856,
    Orders,
}

impl Kind {
    #[allow(dead_code)] // used by the example, not the benchmark
    pub fn parse(name: &str) -> Option<Kind> {
        match name {
            "850" => Some(Kind::X12_850),
            "856" => Some(Kind::X12_856),
            "ORDERS" | "orders" => Some(Kind::Orders),
            _ => None,
        }
    }
}

/// Generates at least `bytes` bytes of `kind`, as whole interchanges.
pub fn generate(kind: Kind, bytes: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(bytes + (1 << 20));
    let mut interchange = 1u64;
    while out.len() < bytes {
        match kind {
            Kind::X12_850 | Kind::X12_856 => x12_interchange(kind, &mut rng, interchange, &mut out),
            Kind::Orders => edifact_interchange(&mut rng, interchange, &mut out),
        }
        interchange += 1;
    }
    out.into_bytes()
}

fn x12_interchange(kind: Kind, rng: &mut Rng, number: u64, out: &mut String) {
    let (functional_id, set_id) = if kind == Kind::X12_850 { ("PO", "850") } else { ("SH", "856") };
    let _ = write!(
        out,
        "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*SUPPLIERCO     *260101*1200*U*00401*{number:09}*0*P*>~\n\
         GS*{functional_id}*BUYERCO*SUPPLIERCO*20260101*1200*{number}*X*004010VICS~\n"
    );
    for set in 1..=SETS_PER_INTERCHANGE {
        let control = format!("{set:04}");
        let _ = writeln!(out, "ST*{set_id}*{control}~");
        let body_start = out.len();
        if kind == Kind::X12_850 {
            x12_850_body(rng, number * 10_000 + set as u64, out);
        } else {
            x12_856_body(rng, number * 10_000 + set as u64, out);
        }
        let segments = out[body_start..].matches('~').count() + 2;
        let _ = writeln!(out, "SE*{segments}*{control}~");
    }
    let _ = write!(out, "GE*{SETS_PER_INTERCHANGE}*{number}~\nIEA*1*{number:09}~\n");
}

fn x12_850_body(rng: &mut Rng, po: u64, out: &mut String) {
    let store = rng.range(1000, 9999);
    let _ = write!(
        out,
        "BEG*00*SA*PO{po}**20260101~\nCUR*BY*USD~\nREF*DP*{}~\nREF*IA*V{}~\nPER*BD*JANE BUYER*TE*555555{}~\n\
         DTM*002*20260115~\nDTM*010*20260110~\nN1*ST*STORE {store}*92*{store}~\nN3*{} MAIN STREET~\n\
         N4*SPRINGFIELD*IL*62{:03}*US~\nN1*BY*BUYER CO*92*0001~\n",
        rng.range(1, 99),
        rng.range(10_000, 99_999),
        rng.range(1000, 9999),
        rng.range(1, 9999),
        rng.range(0, 999),
    );
    let lines = rng.range(5, 25);
    let mut quantity = 0;
    for line in 1..=lines {
        let qty = rng.range(1, 500);
        quantity += qty;
        let _ = write!(
            out,
            "PO1*{line}*{qty}*EA*{}**BP*{}*VN*VN-{}*UP*0{:011}~\nPID*F****{}~\nPO4*1*{}*EA~\n",
            price(rng),
            rng.range(100_000, 999_999),
            rng.range(1000, 9999),
            rng.range(0, 99_999_999_999),
            description(rng),
            rng.range(1, 48),
        );
    }
    let _ = write!(out, "CTT*{lines}*{quantity}~\nAMT*TT*{}~\n", price(rng));
}

fn x12_856_body(rng: &mut Rng, shipment: u64, out: &mut String) {
    let _ = write!(
        out,
        "BSN*00*SH{shipment}*20260101*1200*0001~\nHL*1**S~\nTD1*CTN25*{}****G*{}.5*LB~\nTD5*B*2*UPSN*M~\n\
         REF*BM*BOL{shipment}~\nREF*CN*1Z{:012}~\nDTM*011*20260102~\nN1*SF*SUPPLIER CO*92*S01~\n\
         N1*ST*STORE {}*92*{}~\n",
        rng.range(1, 20),
        rng.range(10, 900),
        rng.range(0, 999_999_999_999),
        rng.range(1000, 9999),
        rng.range(1000, 9999),
    );
    let mut hl = 2;
    let _ = write!(out, "HL*{hl}*1*O~\nPRF*PO{}***20260101~\n", rng.range(100_000, 999_999));
    let order = hl;
    for _ in 0..rng.range(2, 6) {
        hl += 1;
        let pack = hl;
        let _ = write!(out, "HL*{pack}*{order}*P~\nMAN*GM*00{:016}~\n", rng.range(0, 9_999_999_999_999_999));
        for line in 1..=rng.range(1, 4) {
            hl += 1;
            let qty = rng.range(1, 48);
            let _ = write!(
                out,
                "HL*{hl}*{pack}*I~\nLIN*{line}*BP*{}*UP*0{:011}~\nSN1**{qty}*EA**{qty}*EA~\nPID*F****{}~\n",
                rng.range(100_000, 999_999),
                rng.range(0, 99_999_999_999),
                description(rng),
            );
        }
    }
    let _ = writeln!(out, "CTT*{hl}~");
}

fn edifact_interchange(rng: &mut Rng, number: u64, out: &mut String) {
    let _ = writeln!(out, "UNA:+.? 'UNB+UNOC:3+5412345000013:14+5400000000001:14+260101:1200+{number}'");
    for message in 1..=SETS_PER_INTERCHANGE {
        let start = out.len();
        let _ = write!(
            out,
            "UNH+{message}+ORDERS:D:96A:UN:EAN008'\nBGM+220+PO{}{message}+9'\nDTM+137:20260101:102'\n\
             DTM+2:20260115:102'\nRFF+CT:C{}'\nNAD+BY+5412345000013::9++BUYER CO+1 MAIN STREET+BRUSSELS++1000+BE'\n\
             NAD+SU+5400000000001::9'\nNAD+DP+5412345000020::9'\nCUX+2:EUR:9'\n",
            number,
            rng.range(1000, 9999),
        );
        let lines = rng.range(5, 25);
        for line in 1..=lines {
            let _ = write!(
                out,
                "LIN+{line}++54{:011}:EN'\nPIA+1+{}:SA'\nIMD+F++:::{}'\nQTY+21:{}'\nPRI+AAA:{}'\n",
                rng.range(0, 99_999_999_999),
                rng.range(100_000, 999_999),
                description(rng),
                rng.range(1, 500),
                price(rng),
            );
        }
        let _ = write!(out, "UNS+S'\nCNT+2:{lines}'\n");
        let segments = out[start..].matches('\'').count() + 1;
        let _ = writeln!(out, "UNT+{segments}+{message}'");
    }
    let _ = writeln!(out, "UNZ+{SETS_PER_INTERCHANGE}+{number}'");
}
