//! The one error type for bad input: where it is and what was expected.

use std::fmt;

/// A problem in an input file, located by line (1-based) and, where it is
/// about one field, by column name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl InputError {
    pub fn new(file: &str, line: u64, message: impl Into<String>) -> InputError {
        InputError { file: file.to_string(), line, column: None, message: message.into() }
    }

    pub fn in_column(file: &str, line: u64, column: &str, message: impl Into<String>) -> InputError {
        InputError { file: file.to_string(), line, column: Some(column.to_string()), message: message.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(column) = &self.column {
            write!(f, "column `{column}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}
