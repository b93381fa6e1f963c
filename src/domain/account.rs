//! Accounts and what each role may see and do. The one place that answers
//! "may this role ...?"; web handlers ask it, never decide themselves.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Settings, accounts, everything.
    Admin,
    /// People, studies, interviews.
    Researcher,
    /// HR and IT: people-level metrics and adoption.
    Analyst,
    /// Aggregates only, above the privacy floor.
    Manager,
}

/// Something a role may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    ViewAggregates,
    /// Per-person data: the people list, person pages, per-person exports.
    ViewPeople,
    ViewAdoption,
    SetRollout,
    Import,
    ChangeSettings,
    ManageAccounts,
    ReadAuditLog,
    /// Studies, draws, invitations, availability and interviews.
    RunStudies,
    /// Export or erase everything held about one person.
    ExerciseRights,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Researcher, Role::Analyst, Role::Manager];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Researcher => "researcher",
            Role::Analyst => "analyst",
            Role::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    pub fn may(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Analyst => matches!(p, ViewAggregates | ViewPeople | ViewAdoption | SetRollout | Import),
            Role::Researcher => matches!(p, ViewAggregates | ViewPeople | RunStudies),
            Role::Manager => matches!(p, ViewAggregates | ViewAdoption),
        }
    }

    /// Whether aggregates shown to this role must hide small groups.
    pub fn applies_privacy_floor(self) -> bool {
        self == Role::Manager
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An e-mail address as accounts use it: trimmed, lower-cased, one `@` with
/// something on each side and a dot in the domain.
pub fn parse_email(s: &str) -> Result<String, String> {
    let e = s.trim().to_lowercase();
    match e.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !e.contains(char::is_whitespace)
                && e.len() <= 254 =>
        {
            Ok(e)
        }
        _ => Err(format!("`{}` is not an e-mail address", s.trim())),
    }
}

/// The password policy: at least 10 characters, not all the same class.
pub fn check_password(p: &str) -> Result<(), &'static str> {
    if p.chars().count() < 10 {
        return Err("password.too_short");
    }
    if p.chars().count() > 1024 {
        return Err("password.too_long");
    }
    let classes = [
        p.chars().any(|c| c.is_lowercase()),
        p.chars().any(|c| c.is_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|&&c| c).count() < 2 {
        return Err("password.too_simple");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managers_see_aggregates_only() {
        assert!(Role::Manager.may(Permission::ViewAggregates));
        assert!(!Role::Manager.may(Permission::ViewPeople));
        assert!(!Role::Manager.may(Permission::Import));
        assert!(Role::Analyst.may(Permission::ViewPeople));
        assert!(!Role::Analyst.may(Permission::ChangeSettings));
        assert!(!Role::Researcher.may(Permission::ViewAdoption));
        assert!(Role::Admin.may(Permission::ManageAccounts));
        assert!(Role::Manager.applies_privacy_floor() && !Role::Admin.applies_privacy_floor());
    }

    #[test]
    fn emails_and_passwords() {
        assert_eq!(parse_email(" Ana@Corp.Example "), Ok("ana@corp.example".into()));
        for bad in ["", "ana", "ana@", "@corp.example", "ana@corp", "a b@corp.example"] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
        assert!(check_password("short1").is_err());
        assert!(check_password("aaaaaaaaaaaa").is_err());
        assert!(check_password("correct horse 42").is_ok());
    }
}
