//! Reading outside input: directory CSV and event CSV / NDJSON files, plain or
//! gzipped, streamed record by record. Parsing only: nothing here touches the
//! database, so every error can name the file, line and column.

pub mod busy_ics;
pub mod caldav;
pub mod csv_file;
pub mod error;
pub mod events;
pub mod inflate;
pub mod mapped;
pub mod people;
pub mod source;
pub mod zip_member;
/// The spec's timestamp rules live in the domain; importers read them here.
pub use crate::domain::timestamp;
pub mod vendor;

pub use error::InputError;
