//! Organisation settings: time zone, profile and thresholds (with a preview
//! of tier changes), privacy floor.
//!
//! One form holds every setting, pre-filled with the value in force; a field
//! left empty goes back to its default. "Preview" evaluates the data under
//! the settings in force and under the proposed ones and shows who would
//! move between tiers; "Save" stores only what changed, audits each change
//! and redirects.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{html, see_other};
use crate::app::settings::{self as settings_service, stored};
use crate::app::settings_preview;
use crate::domain::account::Permission;
use crate::domain::decimal::Ratio;
use crate::domain::evaluation::Summary;
use crate::domain::profile::ProfileId;
use crate::domain::settings::{KIND_PREFIX, OrgSettings, validate};
use crate::domain::tier::Tier;
use crate::storage::{audit, settings as store};
use crate::web::error::WebError;
use crate::web::i18n::{self, Catalog};
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;
use crate::web::url::filters;

/// How a setting is entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Timezone,
    Profile,
    Whole { min: u32, max: u32 },
    Share,
}

/// A setting on the form: its key, its catalog texts and its input.
pub struct FieldDef {
    pub key: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub input: InputKind,
    /// The fieldset it belongs to (a catalog key).
    pub group: &'static str,
}

/// The settings on the form, in order. The ranges repeat those of
/// `domain::settings::validate`, which remains the judge; here they only
/// word the error and hint the input.
pub const FIELDS: [FieldDef; 9] = [
    FieldDef {
        key: "timezone",
        label: "settings.timezone.label",
        help: "settings.timezone.help",
        input: InputKind::Timezone,
        group: "settings.group.scenario",
    },
    FieldDef {
        key: "profile",
        label: "settings.profile.label",
        help: "settings.profile.help",
        input: InputKind::Profile,
        group: "settings.group.scenario",
    },
    FieldDef {
        key: "window_days",
        label: "settings.window_days.label",
        help: "settings.window_days.help",
        input: InputKind::Whole { min: 1, max: 366 },
        group: "settings.group.scenario",
    },
    FieldDef {
        key: "grace_days",
        label: "settings.grace_days.label",
        help: "settings.grace_days.help",
        input: InputKind::Whole { min: 0, max: 365 },
        group: "settings.group.scenario",
    },
    FieldDef {
        key: "deep.min_interactive_days",
        label: "settings.min_interactive_days.label",
        help: "settings.min_interactive_days.help",
        input: InputKind::Whole { min: 0, max: 366 },
        group: "settings.group.deep",
    },
    FieldDef {
        key: "deep.min_feature_breadth",
        label: "settings.min_feature_breadth.label",
        help: "settings.min_feature_breadth.help",
        input: InputKind::Whole { min: 0, max: 5 },
        group: "settings.group.deep",
    },
    FieldDef {
        key: "deep.min_login_depth",
        label: "settings.min_login_depth.label",
        help: "settings.min_login_depth.help",
        input: InputKind::Share,
        group: "settings.group.deep",
    },
    FieldDef {
        key: "privacy_floor",
        label: "settings.privacy_floor.label",
        help: "settings.privacy_floor.help",
        input: InputKind::Whole { min: 1, max: 1000 },
        group: "settings.group.privacy",
    },
    FieldDef {
        key: "retention.days",
        label: "retention.days.label",
        help: "retention.days.help",
        input: InputKind::Whole { min: crate::domain::retention::MIN_DAYS, max: crate::domain::retention::MAX_DAYS },
        group: "retention.group",
    },
];

const GROUPS: [(&str, &str); 4] = [
    ("settings.group.scenario", "settings.group.scenario_help"),
    ("settings.group.deep", "settings.group.deep_help"),
    ("settings.group.privacy", "settings.group.privacy_help"),
    ("retention.group", "retention.group_help"),
];

/// One field, ready to show.
pub struct FieldView {
    pub key: &'static str,
    /// The HTML id of the input; `-help`, `-state` and `-error` name the
    /// texts that describe it.
    pub id: String,
    pub label: String,
    pub help: String,
    /// The input's value: the value in force, or what was submitted.
    pub value: String,
    /// The value in force, and whether it is the default, in words.
    pub state: String,
    pub is_default: bool,
    pub error: Option<String>,
    /// `timezone`, `profile`, `numeric` or `decimal`.
    pub input: &'static str,
}

impl FieldView {
    pub fn described_by(&self) -> String {
        let mut ids = format!("{id}-help {id}-state", id = self.id);
        if self.error.is_some() {
            ids.push_str(&format!(" {}-error", self.id));
        }
        ids
    }
}

pub struct Group {
    pub legend: String,
    pub help: String,
    pub fields: Vec<FieldView>,
}

/// A setting that would change: label, from, to.
pub struct ChangeView {
    pub label: String,
    pub from: String,
    pub to: String,
}

/// A row of a before/after comparison.
pub struct Compared {
    pub label: String,
    pub before: String,
    pub after: String,
    /// After minus before: points for rates, people for tiers.
    pub change: String,
    pub class: &'static str,
}

pub struct Transition {
    pub from: String,
    pub to: String,
    pub count: String,
}

/// What the proposed settings would do to the evaluation.
pub struct Preview {
    pub changes: Vec<ChangeView>,
    pub sentence: String,
    pub context: String,
    pub transitions: Vec<Transition>,
    pub compared: Vec<Compared>,
    pub empty: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    page: Page,
    groups: Vec<Group>,
    profiles: Vec<(&'static str, String)>,
    timezones: Vec<&'static str>,
    /// `kind.*` mappings: kind, stored class, the class in words.
    kinds: Vec<(String, String, String)>,
    saved: bool,
    /// (input id, label, message) of each invalid field.
    errors: Vec<(String, String, String)>,
    preview: Option<Preview>,
}

#[derive(Deserialize)]
pub struct Flags {
    #[serde(default)]
    saved: Option<String>,
}

fn field_id(key: &str) -> String {
    format!("s-{}", key.replace('.', "-"))
}

/// Whether two valid values of a setting mean the same.
fn same(key: &str, a: &str, b: &str) -> bool {
    if key == "deep.min_login_depth"
        && let (Some(x), Some(y)) = (Ratio::parse_decimal(a), Ratio::parse_decimal(b))
    {
        return x.cmp(&y) == std::cmp::Ordering::Equal;
    }
    a == b
}

/// The settings in force, with what each would be by default.
struct Current {
    stored: BTreeMap<String, String>,
    settings: OrgSettings,
    /// key -> (value in force, default value)
    values: HashMap<&'static str, (String, String)>,
}

fn effective_value(settings: &OrgSettings, map: &BTreeMap<String, String>, key: &str) -> String {
    // Retention changes no number: stored or off (empty), no profile default.
    if key == "retention.days" {
        return map.get(key).cloned().unwrap_or_default();
    }
    settings.effective(map).into_iter().find(|(k, _, _)| k == key).map(|(_, v, _)| v).unwrap_or_default()
}

fn settings_of(map: &BTreeMap<String, String>) -> Result<OrgSettings, WebError> {
    OrgSettings::from_map(map).map_err(|e| WebError::Internal(anyhow::anyhow!(e)))
}

async fn current(state: &AppState) -> Result<Current, WebError> {
    let stored = stored(&state.db).await?;
    let settings = settings_of(&stored)?;
    let mut values = HashMap::new();
    for def in &FIELDS {
        let value = effective_value(&settings, &stored, def.key);
        let default = if stored.contains_key(def.key) {
            let mut without = stored.clone();
            without.remove(def.key);
            effective_value(&settings_of(&without)?, &without, def.key)
        } else {
            value.clone()
        };
        values.insert(def.key, (value, default));
    }
    Ok(Current { stored, settings, values })
}

/// A value as shown in text: profiles by name.
fn shown(t: &Catalog, key: &str, value: &str) -> String {
    if key == "profile" {
        return t.get(&format!("profile.{value}")).to_string();
    }
    if key == "retention.days" {
        return if value.is_empty() {
            t.get("retention.off").to_string()
        } else {
            t.fill("retention.days.value", &[("days", value)])
        };
    }
    value.to_string()
}

/// The message for an invalid value, in the viewer's language.
fn invalid(t: &Catalog, def: &FieldDef, value: &str) -> String {
    match def.input {
        InputKind::Timezone => t.fill("settings.error.timezone", &[("value", value)]),
        InputKind::Profile => t.get("settings.error.profile").to_string(),
        InputKind::Whole { min, max } => {
            t.fill("settings.error.whole", &[("min", &min.to_string()), ("max", &max.to_string())])
        }
        InputKind::Share => t.get("settings.error.share").to_string(),
    }
}

fn class_in_words(t: &Catalog, class: &str) -> String {
    match class.split_once(':') {
        None if class == "passive" => t.get("settings.class.passive").to_string(),
        None if class == "interactive" => t.get("settings.class.interactive").to_string(),
        Some(("interactive", family)) => t.fill("settings.class.interactive_family", &[("family", family)]),
        _ => class.to_string(),
    }
}

/// Builds the page; `submitted` holds values to show instead of those in
/// force (after a preview or a failed save).
fn build(
    viewer: &Viewer,
    cur: &Current,
    submitted: &HashMap<String, String>,
    errors: &HashMap<&'static str, String>,
    saved: bool,
    preview: Option<Preview>,
) -> SettingsPage {
    let page = Page::new(viewer, "settings", "settings.title");
    let t = viewer.lang.catalog();
    let groups = GROUPS
        .iter()
        .map(|(legend, help)| Group {
            legend: t.get(legend).to_string(),
            help: t.get(help).to_string(),
            fields: FIELDS
                .iter()
                .filter(|d| d.group == *legend)
                .map(|def| {
                    let (value, default) = cur.values.get(def.key).cloned().unwrap_or_default();
                    let is_default = same(def.key, &value, &default);
                    let state = if is_default {
                        t.fill("settings.state.default", &[("value", &shown(t, def.key, &value))])
                    } else {
                        t.fill(
                            "settings.state.changed",
                            &[("value", &shown(t, def.key, &value)), ("default", &shown(t, def.key, &default))],
                        )
                    };
                    FieldView {
                        key: def.key,
                        id: field_id(def.key),
                        label: t.get(def.label).to_string(),
                        help: t.get(def.help).to_string(),
                        value: submitted.get(def.key).map(|v| v.trim().to_string()).unwrap_or(value),
                        state,
                        is_default,
                        error: errors.get(def.key).cloned(),
                        input: match def.input {
                            InputKind::Timezone => "timezone",
                            InputKind::Profile => "profile",
                            InputKind::Whole { .. } => "numeric",
                            InputKind::Share => "decimal",
                        },
                    }
                })
                .collect(),
        })
        .collect();
    let error_list = FIELDS
        .iter()
        .filter_map(|d| errors.get(d.key).map(|e| (field_id(d.key), t.get(d.label).to_string(), e.clone())))
        .collect();
    let kinds = cur
        .stored
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(KIND_PREFIX).map(|kind| (kind.to_string(), v.clone(), class_in_words(t, v)))
        })
        .collect();
    SettingsPage {
        page,
        groups,
        profiles: ProfileId::ALL
            .iter()
            .map(|p| (p.as_str(), t.get(&format!("profile.{}", p.as_str())).to_string()))
            .collect(),
        timezones: chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect(),
        kinds,
        saved,
        errors: error_list,
        preview,
    }
}

pub async fn page(viewer: Viewer, state: web::Data<AppState>, q: web::Query<Flags>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ChangeSettings)?;
    let cur = current(&state).await?;
    html(&build(&viewer, &cur, &HashMap::new(), &HashMap::new(), q.saved.is_some(), None))
}

/// A proposed change: the key and its new stored value (`None`: back to
/// the default).
struct Change {
    key: &'static str,
    value: Option<String>,
}

pub async fn save(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ChangeSettings)?;
    let form = form.into_inner();
    let intent = form.get("intent").map(String::as_str).unwrap_or("save");
    if intent != "save" && intent != "preview" {
        return Err(WebError::BadRequest(format!("unknown intent `{intent}`")));
    }
    let t = viewer.lang.catalog();
    let cur = current(&state).await?;

    let mut errors: HashMap<&'static str, String> = HashMap::new();
    let mut changes: Vec<Change> = Vec::new();
    for def in &FIELDS {
        // A field the form did not send stays as it is.
        let Some(raw) = form.get(def.key) else { continue };
        let raw = raw.trim();
        if raw.is_empty() {
            if cur.stored.contains_key(def.key) {
                changes.push(Change { key: def.key, value: None });
            }
            continue;
        }
        match validate(def.key, raw) {
            Err(_) => {
                errors.insert(def.key, invalid(t, def, raw));
            }
            Ok(value) => {
                let in_force = cur.values.get(def.key).map(|v| v.0.as_str()).unwrap_or_default();
                if !same(def.key, &value, in_force) {
                    changes.push(Change { key: def.key, value: Some(value) });
                }
            }
        }
    }
    if !errors.is_empty() {
        return html(&build(&viewer, &cur, &form, &errors, false, None));
    }

    let mut proposed = cur.stored.clone();
    for c in &changes {
        match &c.value {
            Some(v) => proposed.insert(c.key.to_string(), v.clone()),
            None => proposed.remove(c.key),
        };
    }
    let proposed_settings = settings_of(&proposed)?;

    if intent == "preview" {
        let preview = preview(&viewer, &state, &cur, &proposed, &proposed_settings, &changes).await?;
        return html(&build(&viewer, &cur, &form, &errors, false, Some(preview)));
    }

    for c in &changes {
        let detail = match &c.value {
            Some(v) => settings_service::set(&state.db, c.key, v).await.map_err(anyhow::Error::from)?,
            None => {
                store::unset(&state.db, c.key).await?;
                effective_value(&proposed_settings, &proposed, c.key)
            }
        };
        audit::record(
            &state.db,
            viewer.audit_actor(),
            "settings.change",
            Some(&format!("setting:{}", c.key)),
            Some(&detail),
        )
        .await?;
    }
    if !changes.is_empty() {
        state.cache.refresh(state.db.clone());
    }
    Ok(see_other("/settings?saved=1"))
}

fn rate(r: Option<Ratio>) -> String {
    r.map(|r| i18n::percent(r.to_f64())).unwrap_or_else(|| "–".into())
}

/// A signed difference with `+` shown.
fn signed(value: f64, places: u32) -> String {
    let text = crate::domain::decimal::display_f64(value, places);
    match text.as_str() {
        "" => "–".into(),
        "0" => text,
        t if t.starts_with('-') => text,
        _ => format!("+{text}"),
    }
}

fn rate_change(t: &Catalog, before: Option<Ratio>, after: Option<Ratio>) -> String {
    match (before, after) {
        (Some(a), Some(b)) => {
            t.fill("settings.preview.points", &[("n", &signed((b.to_f64() - a.to_f64()) * 100.0, 1))])
        }
        _ => "–".into(),
    }
}

/// A tier's name, or "not listed" for someone outside the list.
fn tier_label(t: &Catalog, tier: Option<Tier>) -> String {
    match tier {
        Some(tier) => t.get(&format!("tier.{}", tier.as_str())).to_string(),
        None => t.get("settings.preview.not_listed").to_string(),
    }
}

/// The login and deep rates and each tier's people, before and after.
fn compared_rows(t: &Catalog, before: &Summary, after: &Summary) -> Vec<Compared> {
    let mut compared = vec![
        Compared {
            label: t.get("dashboard.login_rate").to_string(),
            before: rate(before.login_rate()),
            after: rate(after.login_rate()),
            change: rate_change(t, before.login_rate(), after.login_rate()),
            class: "rate",
        },
        Compared {
            label: t.get("dashboard.deep_rate").to_string(),
            before: rate(before.deep_rate()),
            after: rate(after.deep_rate()),
            change: rate_change(t, before.deep_rate(), after.deep_rate()),
            class: "rate",
        },
    ];
    for tier in Tier::ALL {
        let n = |s: &Summary| i64::from(s.tier_counts.get(&tier).copied().unwrap_or(0));
        let (a, b) = (n(before), n(after));
        compared.push(Compared {
            label: tier_label(t, Some(tier)),
            before: i18n::integer(a),
            after: i18n::integer(b),
            change: if b > a { format!("+{}", i18n::integer(b - a)) } else { i18n::integer(b - a) },
            class: "tier",
        });
    }
    compared
}

async fn preview(
    viewer: &Viewer,
    state: &AppState,
    cur: &Current,
    proposed: &BTreeMap<String, String>,
    proposed_settings: &OrgSettings,
    changes: &[Change],
) -> Result<Preview, WebError> {
    let t = viewer.lang.catalog();
    let m = settings_preview::preview(&state.db, &cur.settings, proposed_settings).await?;
    let transitions = m
        .moves
        .iter()
        .map(|&(a, b, n)| Transition {
            from: tier_label(t, a),
            to: tier_label(t, b),
            count: i18n::integer(i64::from(n)),
        })
        .collect();
    let compared = compared_rows(t, &m.before, &m.after);

    let (listed, moved) = (m.listed, m.moved);
    let sentence = if changes.is_empty() {
        t.get("settings.preview.no_change").to_string()
    } else {
        t.fill(
            "settings.preview.sentence",
            &[("n", &i18n::integer(i64::from(moved))), ("total", &i18n::integer(listed as i64))],
        )
    };
    let (d1, d2) = (m.as_of_before, m.as_of_after);
    let context = if d1 == d2 {
        t.fill(
            "settings.preview.context",
            &[("date", &i18n::date(viewer.lang, d1)), ("days", &m.window_days.to_string())],
        )
    } else {
        t.fill(
            "settings.preview.context_moved",
            &[("before", &i18n::date(viewer.lang, d1)), ("after", &i18n::date(viewer.lang, d2))],
        )
    };
    let changes = changes
        .iter()
        .map(|c| {
            let def = FIELDS.iter().find(|d| d.key == c.key);
            let from = cur.values.get(c.key).map(|v| v.0.clone()).unwrap_or_default();
            let to = effective_value(proposed_settings, proposed, c.key);
            ChangeView {
                label: def.map(|d| t.get(d.label)).unwrap_or(c.key).to_string(),
                from: shown(t, c.key, &from),
                to: match c.value {
                    Some(_) => shown(t, c.key, &to),
                    None => t.fill("settings.preview.to_default", &[("value", &shown(t, c.key, &to))]),
                },
            }
        })
        .collect();
    Ok(Preview { changes, sentence, context, transitions, compared, empty: listed == 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;

    #[test]
    fn every_field_text_is_in_both_catalogs() {
        for lang in Lang::ALL {
            let t = lang.catalog();
            let mut keys: Vec<&str> = FIELDS.iter().flat_map(|d| [d.label, d.help]).collect();
            keys.extend(GROUPS.iter().flat_map(|(a, b)| [*a, *b]));
            for key in keys {
                assert_ne!(t.get(key), key, "{} lacks {key}", lang.code());
            }
        }
    }

    #[test]
    fn the_ranges_agree_with_validation() {
        for def in &FIELDS {
            if let InputKind::Whole { min, max } = def.input {
                assert!(validate(def.key, &min.to_string()).is_ok(), "{}", def.key);
                assert!(validate(def.key, &max.to_string()).is_ok(), "{}", def.key);
                assert!(validate(def.key, &(max + 1).to_string()).is_err(), "{}", def.key);
                if min > 0 {
                    assert!(validate(def.key, &(min - 1).to_string()).is_err(), "{}", def.key);
                }
            }
        }
    }

    #[test]
    fn login_depths_compare_by_value() {
        assert!(same("deep.min_login_depth", "0.5", "0.50"));
        assert!(!same("deep.min_login_depth", "0.5", "0.25"));
        assert!(same("timezone", "UTC", "UTC"));
    }
}
