//! EDIFACT: the UNA service string advice, the UNB syntax identifier and the character
//! repertoires. The envelope rules themselves are data in `syntax`.

pub(crate) mod una;
