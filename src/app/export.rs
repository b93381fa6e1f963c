//! The export contract (spec section 7): one row per listed person, sorted
//! by user id, the model's columns first, then department and the profile's
//! key indicators. Also the headline summary as text or JSON.

use std::io::Write;

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::evaluate::Computed;
use crate::csv_out::{Cell, CsvOut};
use crate::domain::coverage::{GapReason, GapSource};
use crate::domain::decimal::Ratio;
use crate::domain::evaluation::{PersonResult, Summary};
use crate::domain::facts::FactSource;
use crate::domain::tier::Tier;

pub const LEADING_COLUMNS: [&str; 10] = [
    "user_id",
    "tier",
    "active_days",
    "interactive_days",
    "sessions",
    "engaged_sessions",
    "login_depth",
    "messages_sent",
    "feature_breadth",
    "median_reply_minutes",
];

/// The model's metrics of one result as shown (spec section 7 order, from
/// `active_days` to `median_reply_minutes`); `None` where the person's
/// source does not give the metric (aggregated sources: no sessions, no
/// reply speed), which is never shown as zero.
pub fn shown_metrics(r: &PersonResult) -> [Option<String>; 8] {
    let m = &r.counters;
    match &r.aggregated {
        Some(a) => [
            a.active_days.map(|n| n.to_string()),
            a.interactive_days.map(|n| n.to_string()),
            None,
            None,
            None,
            Some(a.messages.to_string()),
            Some(a.feature_breadth().to_string()),
            None,
        ],
        None => [
            Some(m.active_days.to_string()),
            Some(m.interactive_days.to_string()),
            Some(m.sessions.to_string()),
            Some(m.engaged_sessions.to_string()),
            Some(m.login_depth().map(|d| d.display(3)).unwrap_or_default()),
            Some(m.messages_sent.to_string()),
            Some(m.feature_breadth().to_string()),
            Some(m.median_reply_minutes().map(|d| d.display(1)).unwrap_or_default()),
        ],
    }
}

/// Column names, then one row of shown values per listed person.
pub fn table(c: &Computed) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header: Vec<String> = LEADING_COLUMNS.iter().map(|s| s.to_string()).collect();
    header.push("department".into());
    header.extend(c.profile.indicator_keys().iter().map(|s| s.to_string()));
    header.push("source".into());
    header.push("depth_gap".into());
    let rows = c
        .evaluation
        .results
        .iter()
        .map(|r| {
            let person = &c.data.people[r.person];
            let mut row = vec![person.user_id.clone(), r.tier.to_string()];
            row.extend(shown_metrics(r).into_iter().map(Option::unwrap_or_default));
            row.push(person.department.clone().unwrap_or_default());
            if r.aggregated.is_some() {
                row.extend(c.profile.indicator_keys().iter().map(|_| String::new()));
            } else {
                row.extend(c.evaluation.indicators(r, &c.profile));
            }
            row.push(source_label(r));
            // Why the source cannot measure this person's depth (tier
            // `unmeasured`, or left out of the deep rate's base), e.g.
            // `teams.no_day_counts`; empty when it can.
            row.push(r.depth_gap.map(|g| g.key()).unwrap_or_default());
            row
        })
        .collect();
    (header, rows)
}

/// Where a row's metrics come from: `events`, or the aggregated sources
/// joined with `+`.
pub fn source_label(r: &PersonResult) -> String {
    match &r.aggregated {
        Some(a) => a.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("+"),
        None => "events".to_string(),
    }
}

/// Columns of text (outside or named values); every other column holds
/// numbers the app computed.
fn is_text_column(column: &str) -> bool {
    matches!(column, "user_id" | "tier" | "department" | "source" | "depth_gap")
}

pub fn write_csv(c: &Computed, out: impl Write) -> Result<()> {
    let (header, rows) = table(c);
    let mut w = CsvOut::new(out);
    w.text_row(&header)?;
    for row in &rows {
        w.row(header.iter().zip(row).map(|(column, value)| {
            if is_text_column(column) { Cell::text(value.as_str()) } else { Cell::number(value.as_str()) }
        }))?;
    }
    w.flush()?;
    Ok(())
}

/// A shown value as JSON: empty is null, numbers are numbers.
fn json_value(column: &str, value: String) -> Value {
    if value.is_empty() {
        return Value::Null;
    }
    if is_text_column(column) {
        return Value::String(value);
    }
    if let Ok(n) = value.parse::<i64>() {
        return json!(n);
    }
    value.parse::<f64>().map(|f| json!(f)).unwrap_or(Value::String(value))
}

pub fn write_json(c: &Computed, mut out: impl Write) -> Result<()> {
    let (header, rows) = table(c);
    let people: Vec<Value> = rows
        .into_iter()
        .map(|row| {
            let map: Map<String, Value> = header.iter().zip(row).map(|(h, v)| (h.clone(), json_value(h, v))).collect();
            Value::Object(map)
        })
        .collect();
    let doc = json!({
        "as_of": c.evaluation.window.as_of.to_string(),
        "window_days": c.evaluation.window.days,
        "timezone": c.evaluation.window.tz.name(),
        "profile": c.profile.id.as_str(),
        "people": people,
    });
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    Ok(())
}

fn percent(r: Option<Ratio>) -> String {
    r.map(|r| format!("{}%", Ratio { num: r.num * 100, den: r.den }.display(1))).unwrap_or_else(|| "-".into())
}

pub fn summary_json(label: &str, s: &Summary) -> Value {
    let tiers: Map<String, Value> = s.tier_counts.iter().map(|(t, n)| (t.to_string(), json!(n))).collect();
    let indicators: Map<String, Value> =
        s.indicators.iter().map(|i| (i.key.to_string(), json_value(i.key, i.value.clone()))).collect();
    let unmeasurable: Map<String, Value> =
        s.coverage.unmeasurable.iter().map(|(gap, n)| (gap.key(), json!(n))).collect();
    json!({
        "group": label,
        "people": s.listed,
        "base": s.base,
        "login_rate": s.login_rate().map(|r| r.to_f64()),
        // The deep rate and the gap are over the people whose depth their
        // source can measure (`deep_rate_base`); the others are counted in
        // `depth_unmeasurable`, by source and reason.
        "deep_rate": s.deep_rate().map(|r| r.to_f64()),
        "deep_rate_base": s.measurable_base(),
        "login_rate_measurable": s.measurable_login_rate().map(|r| r.to_f64()),
        "gap_points": s.gap_points(),
        "depth_unmeasurable": unmeasurable,
        "tiers": tiers,
        "indicators": indicators,
    })
}

/// Overall and per-department summaries, labelled.
pub fn summaries(c: &Computed) -> Vec<(String, Summary)> {
    let mut out = vec![("all".to_string(), c.evaluation.summary(&c.profile))];
    for (dept, s) in c.evaluation.by_department(&c.data, &c.profile) {
        out.push((dept.unwrap_or("(no department)").to_string(), s));
    }
    out
}

pub fn write_summary_text(c: &Computed, mut out: impl Write) -> Result<()> {
    let w = &c.evaluation.window;
    writeln!(out, "As of {} ({} days, {}), profile {}", w.as_of, w.days, w.tz.name(), c.profile.id)?;
    let all = summaries(c);
    let overall = &all[0].1;
    writeln!(out)?;
    writeln!(out, "Login rate  {:>7}   people with at least one active day", percent(overall.login_rate()))?;
    if overall.partial_coverage() {
        writeln!(
            out,
            "Deep rate   {:>7}   people in tier deep, over the {} whose depth is measurable",
            percent(overall.deep_rate()),
            overall.measurable_base()
        )?;
    } else {
        writeln!(out, "Deep rate   {:>7}   people in tier deep", percent(overall.deep_rate()))?;
    }
    if let Some(gap) = overall.gap_points() {
        writeln!(out, "Gap         {:>6.1} points between looking active and being active", gap)?;
    }
    writeln!(out, "(rates over {} listed people who are past the grace period)", overall.base)?;
    write_coverage(&mut out, overall)?;
    writeln!(out)?;
    for i in &overall.indicators {
        writeln!(out, "{:<28} {}", i.key, if i.value.is_empty() { "-" } else { &i.value })?;
    }
    writeln!(out)?;
    let tiers: Vec<String> = Tier::ALL.iter().map(|t| format!("{:>11}", t.as_str())).collect();
    writeln!(out, "{:<24} {:>7} {} {:>7} {:>7}", "department", "people", tiers.join(""), "login", "deep")?;
    for (label, s) in &all {
        let counts: Vec<String> =
            Tier::ALL.iter().map(|t| format!("{:>11}", s.tier_counts.get(t).copied().unwrap_or(0))).collect();
        writeln!(
            out,
            "{:<24} {:>7} {} {:>7} {:>7}",
            label,
            s.listed,
            counts.join(""),
            percent(s.login_rate()),
            percent(s.deep_rate())
        )?;
    }
    Ok(())
}

/// Who the deep rate speaks for, when some people's source cannot measure
/// depth, and how to get data that can.
fn write_coverage(out: &mut impl Write, s: &Summary) -> Result<()> {
    if !s.partial_coverage() {
        return Ok(());
    }
    let measurable = s.measurable_base();
    if measurable == 0 {
        writeln!(out, "Depth is not measurable from these sources for any of the {} people:", s.base)?;
        writeln!(out, "no deep rate and no gap.")?;
    } else {
        writeln!(
            out,
            "Deep rate and gap over the {measurable} people whose depth is measurable (login rate among them {});",
            percent(s.measurable_login_rate())
        )?;
        writeln!(out, "these people are not:")?;
    }
    for (gap, n) in &s.coverage.unmeasurable {
        writeln!(out, "  {n:>7} people from {} ({})", source_words(gap.source), gap_words(gap.reason))?;
    }
    let sources: std::collections::BTreeSet<GapSource> = s.coverage.unmeasurable.keys().map(|g| g.source).collect();
    for source in sources {
        writeln!(out, "  Better data: {}", advice(source))?;
    }
    Ok(())
}

fn source_words(s: GapSource) -> &'static str {
    let s = match s {
        GapSource::Facts(s) => s,
        GapSource::Events("slack_export") => return "Slack workspace exports",
        GapSource::Events(_) => return "message-only exports",
    };
    match s {
        FactSource::Teams => "Teams period reports",
        FactSource::SlackDashboard => "Slack dashboard exports",
        FactSource::SlackApi => "Slack API member analytics",
        FactSource::Feishu => "Feishu usage reports",
        FactSource::GoogleChat => "Google Chat usage reports",
    }
}

fn gap_words(r: GapReason) -> &'static str {
    match r {
        GapReason::NoDayCounts => "no day counts",
        GapReason::FewFamilies => "too few feature families visible, e.g. no files or huddles columns",
        GapReason::NoPresence => "messages only, and no login source covers the window",
    }
}

fn advice(s: GapSource) -> &'static str {
    let s = match s {
        GapSource::Facts(s) => s,
        GapSource::Events(_) => {
            return "import a login source for the same people and days: the Slack audit log (user_login, user_logout), or event files with login events";
        }
    };
    match s {
        FactSource::Teams => {
            "import Teams daily reports (Graph getTeamsUserActivityUserDetail(date=YYYY-MM-DD), one file per day), which give day counts, or raw events"
        }
        FactSource::SlackDashboard => {
            "export with the Files uploaded and Slack Huddles columns, or import the API's daily member analytics, or raw events"
        }
        FactSource::SlackApi => "include messages, files and huddles in the member analytics, or import raw events",
        FactSource::Feishu => "import daily statistics with message, meeting and document counts, or raw events",
        FactSource::GoogleChat => "the usage report has no day counts; import raw events",
    }
}

pub fn write_summary_json(c: &Computed, mut out: impl Write) -> Result<()> {
    let all = summaries(c);
    let w = &c.evaluation.window;
    let doc = json!({
        "as_of": w.as_of.to_string(),
        "window_days": w.days,
        "timezone": w.tz.name(),
        "profile": c.profile.id.as_str(),
        "overall": summary_json("all", &all[0].1),
        "departments": all[1..].iter().map(|(l, s)| summary_json(l, s)).collect::<Vec<_>>(),
    });
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    Ok(())
}
