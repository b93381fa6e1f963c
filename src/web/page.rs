//! What every page template gets: the language, the account, the CSRF token
//! and the navigation, with helpers for text and numbers.

use chrono::NaiveDate;

use super::i18n::{self, Lang};
use super::session::{Anonymous, Viewer};
use crate::domain::account::Permission;
use crate::storage::accounts::Account;

pub struct Page {
    pub lang: Lang,
    pub csrf: String,
    pub account: Option<Account>,
    /// The navigation entry to highlight.
    pub active: &'static str,
    pub title: String,
}

/// A navigation entry: key, path, catalog key of its label.
pub struct NavItem {
    pub key: &'static str,
    pub path: &'static str,
    pub label: String,
}

impl Page {
    pub fn new(viewer: &Viewer, active: &'static str, title_key: &str) -> Page {
        let lang = viewer.lang;
        Page {
            lang,
            csrf: viewer.csrf.clone(),
            account: Some(viewer.account.clone()),
            active,
            title: lang.catalog().get(title_key).to_string(),
        }
    }

    pub fn anonymous(anon: &Anonymous, title_key: &str) -> Page {
        Page {
            lang: anon.lang,
            csrf: anon.csrf.clone(),
            account: None,
            active: "",
            title: anon.lang.catalog().get(title_key).to_string(),
        }
    }

    /// A catalog text.
    pub fn t(&self, key: &str) -> String {
        self.lang.catalog().get(key).to_string()
    }

    /// A catalog text with `{name}` placeholders filled.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.lang.catalog().fill(key, args)
    }

    /// A catalog text with placeholders filled, for a key built from a
    /// stored code; None when the catalogs do not know it.
    pub fn tf_known(&self, key: &str, args: &[(&str, &str)]) -> Option<String> {
        self.lang.catalog().has(key).then(|| self.tf(key, args))
    }

    /// A form action with the CSRF token.
    pub fn action(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}csrf={}", self.csrf)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn num(&self, n: &i64) -> String {
        i18n::integer(*n)
    }

    pub fn count(&self, n: &u32) -> String {
        i18n::integer(i64::from(*n))
    }

    pub fn pct(&self, share: &f64) -> String {
        i18n::percent(*share)
    }

    /// A date: "29 May 2026", "2026年5月29日".
    pub fn date(&self, d: &NaiveDate) -> String {
        i18n::date(self.lang, *d)
    }

    /// A date stored as ISO text ("2026-05-29"), said as [`Page::date`];
    /// anything else as it is.
    pub fn date_text(&self, iso: &str) -> String {
        NaiveDate::parse_from_str(iso, "%Y-%m-%d").map_or_else(|_| iso.to_string(), |d| self.date(&d))
    }

    /// A stored instant (Unix seconds) in a zone (the organisation's):
    /// "29 May 2026, 14:05", "2026年5月29日 14:05".
    pub fn instant(&self, ts: i64, tz: chrono_tz::Tz) -> String {
        i18n::instant(self.lang, ts, tz)
    }

    /// A date and time already in its zone.
    pub fn date_time<Tz: chrono::TimeZone>(&self, t: &chrono::DateTime<Tz>) -> String
    where
        Tz::Offset: std::fmt::Display,
    {
        i18n::date_time(self.lang, t)
    }

    /// A chart's week or day label: "29 May", "5月29日".
    pub fn short_date(&self, d: &NaiveDate) -> String {
        i18n::short_date(self.lang, *d)
    }

    pub fn can(&self, p: Permission) -> bool {
        self.account.as_ref().is_some_and(|a| a.role.may(p))
    }

    pub fn role_name(&self) -> String {
        self.account.as_ref().map(|a| self.t(&format!("role.{}", a.role.as_str()))).unwrap_or_default()
    }

    pub fn nav(&self) -> Vec<NavItem> {
        let Some(account) = &self.account else { return Vec::new() };
        let items: [(&str, &str, Permission); 11] = [
            ("dashboard", "/", Permission::ViewAggregates),
            ("adoption", "/adoption", Permission::ViewAdoption),
            ("people", "/people", Permission::ViewPeople),
            ("report", "/report", Permission::ViewAggregates),
            ("studies", "/studies", Permission::RunStudies),
            ("calendar", "/calendar", Permission::RunStudies),
            ("imports", "/imports", Permission::Import),
            ("settings", "/settings", Permission::ChangeSettings),
            ("accounts", "/accounts", Permission::ManageAccounts),
            ("tokens", "/tokens", Permission::ManageAccounts),
            ("audit", "/audit", Permission::ReadAuditLog),
        ];
        items
            .into_iter()
            .filter(|(_, _, p)| account.role.may(*p))
            .map(|(key, path, _)| NavItem { key, path, label: self.t(&format!("nav.{key}")) })
            .collect()
    }
}
