//! X12: the ISA header grammar. The envelope rules themselves are data in `syntax`.

pub(crate) mod isa;
