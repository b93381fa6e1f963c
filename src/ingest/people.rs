//! Directory files (spec section 1): CSV with `user_id` required, the known
//! optional columns, and any other column kept as a free-form attribute.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use csv::ByteRecord;

use super::InputError;
use super::csv_file::CsvFile;
use super::events::normalise_user_id;
use super::source::{Input, normalise_header, not_utf8};
use super::timestamp::parse_date;

/// One directory row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectoryRow {
    pub line: u64,
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    pub location: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub attributes: BTreeMap<String, String>,
    /// Other ids the person is known by (a UPN, a Slack User ID, a Feishu
    /// open_id, an employee number), normalised like user ids.
    pub aliases: Vec<String>,
}

const KNOWN: [&str; 8] = ["user_id", "name", "email", "department", "title", "location", "start_date", "aliases"];

/// The ids of an `aliases` cell: separated by `;`, `|` or `,` (or their
/// full-width forms `；`, `｜`, `，` and `、`, as Chinese input writes them), each trimmed
/// and lower-cased like a user id; empty pieces and repeats are dropped.
pub fn split_aliases(cell: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in cell.split([';', '|', ',', '；', '｜', '，', '、']) {
        let id = normalise_user_id(piece);
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Streams directory rows.
pub struct DirectoryReader {
    file: String,
    csv: CsvFile,
    headers: Vec<String>,
    record: ByteRecord,
}

impl DirectoryReader {
    pub fn new(input: Input) -> Result<DirectoryReader, InputError> {
        let Input { name, gzipped, reader, .. } = input;
        // The header is the first line with a `user_id` column: lines above
        // it (a title row, PowerShell's `#TYPE` line) are skipped.
        let mut csv = CsvFile::open(&name, gzipped, reader, &is_directory_header, false)?;
        let header_line = csv.header_at.line;
        let headers: Vec<String> = csv.header()?.iter().map(|h| normalise_header(h)).collect();
        if !headers.iter().any(|h| h == "user_id") {
            return Err(InputError::new(
                &name,
                header_line,
                format!("missing column `user_id`; a directory needs it (the header has: {})", headers.join(", ")),
            ));
        }
        for (i, h) in headers.iter().enumerate() {
            if h.is_empty() {
                return Err(InputError::new(
                    &name,
                    header_line,
                    format!("header field {} is empty; every column needs a name", i + 1),
                ));
            }
            if headers[..i].contains(h) {
                return Err(InputError::new(&name, header_line, format!("column `{h}` appears twice")));
            }
        }
        Ok(DirectoryReader { file: name, csv, headers, record: ByteRecord::new() })
    }

    /// The header's line, when lines above it were skipped.
    pub fn header_line(&self) -> Option<u64> {
        Some(self.csv.header_at.line).filter(|l| *l > 1)
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }

    /// Attribute columns: everything but the known ones.
    pub fn attribute_columns(&self) -> Vec<&str> {
        self.headers.iter().map(String::as_str).filter(|h| !KNOWN.contains(h)).collect()
    }

    fn read_row(&mut self) -> Option<Result<DirectoryRow, InputError>> {
        let line = match self.csv.read(&mut self.record)? {
            Ok(line) => line,
            Err(e) => return Some(Err(e)),
        };
        let mut row = DirectoryRow {
            line,
            user_id: String::new(),
            name: None,
            email: None,
            department: None,
            title: None,
            location: None,
            start_date: None,
            attributes: BTreeMap::new(),
            aliases: Vec::new(),
        };
        for (header, raw) in self.headers.iter().zip(self.record.iter()) {
            let Ok(text) = std::str::from_utf8(raw) else {
                return Some(Err(not_utf8(&self.file, line, Some(header), self.record.as_slice())));
            };
            let value = text.trim();
            let opt = (!value.is_empty()).then(|| value.to_string());
            match header.as_str() {
                "user_id" => row.user_id = normalise_user_id(value),
                "name" => row.name = opt,
                "email" => {
                    if let Err(m) = bare_address(value) {
                        return Some(Err(InputError::in_column(&self.file, line, "email", m)));
                    }
                    row.email = opt
                }
                "aliases" => row.aliases = split_aliases(value),
                "department" => row.department = opt,
                "title" => row.title = opt,
                "location" => row.location = opt,
                "start_date" => {
                    if !value.is_empty() {
                        match parse_date(value) {
                            Ok(d) => row.start_date = Some(d),
                            Err(m) => return Some(Err(InputError::in_column(&self.file, line, "start_date", m))),
                        }
                    }
                }
                other => {
                    if let Some(v) = opt {
                        row.attributes.insert(other.to_string(), v);
                    }
                }
            }
        }
        if row.user_id.is_empty() {
            return Some(Err(InputError::in_column(
                &self.file,
                line,
                "user_id",
                "empty user id; every person needs one",
            )));
        }
        Some(Ok(row))
    }
}

/// Checks that an e-mail cell is one bare address (`name@example.com`), or
/// empty: a display name (`Eve <eve@example.com>`), several addresses or
/// anything that would let a cell choose other recipients is refused.
pub fn bare_address(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    let shown: String = value.chars().take(80).collect();
    if value.chars().any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c)) {
        return Err(format!(
            "`{shown}` is not a bare e-mail address; write only the address, e.g. name@example.com (no display name, no <>, one address; other ids go in `aliases`)"
        ));
    }
    match value.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && value.len() <= 254 =>
        {
            Ok(())
        }
        _ => Err(format!("`{shown}` is not an e-mail address; expected one like name@example.com")),
    }
}

/// A directory's header line: it names `user_id`.
fn is_directory_header(names: &[String]) -> bool {
    names.iter().any(|n| normalise_header(n) == "user_id")
}

impl Iterator for DirectoryReader {
    type Item = Result<DirectoryRow, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_row()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_split_on_any_separator_trimmed_lower_cased_once() {
        assert_eq!(
            split_aliases(" U01ABC ; alex.wu@Contoso.com|EMP-7, u01abc ;; "),
            vec!["u01abc".to_string(), "alex.wu@contoso.com".to_string(), "emp-7".to_string()]
        );
        assert!(split_aliases("").is_empty());
        assert_eq!(split_aliases("U01；awu、x"), vec!["u01".to_string(), "awu".to_string(), "x".to_string()]);
    }

    #[test]
    fn only_a_bare_address_is_an_email() {
        assert!(bare_address("alex.wu@contoso.com").is_ok());
        for bad in ["Alex Wu <alex.wu@contoso.com>", "a@b.com;c@d.com", "alex", "@contoso.com", "a@", "a@b@c"] {
            assert!(bare_address(bad).is_err(), "{bad}");
        }
    }
}
