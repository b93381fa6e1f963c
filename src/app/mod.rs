//! Application services shared by the command line and the web: they tie
//! the pure domain to storage (imports, evaluations, settings).

pub mod accounts;
pub mod evaluate;
pub mod export;
pub mod import;
pub mod import_facts;
pub mod settings;
