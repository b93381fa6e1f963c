//! Server-rendered, accessible SVG charts (no JavaScript, no external assets).
//!
//! Every function returns a complete markup string meant to be embedded with askama's `|safe`, so all
//! caller-supplied text is escaped here. Colours are left to the stylesheet: series carry a class
//! (`s0`..`s7` by default, or the caller's own, e.g. a tier class). Because one class has to colour bars
//! (`fill`), lines (`stroke`) and HTML legend swatches (`background`), the intended CSS pattern is a
//! custom property: `.s0 { --c: #4e79a7 }` plus `.chart .bar, .chart .point { fill: var(--c) }`,
//! `.chart .line { stroke: var(--c) }`, `.legend .swatch { background: var(--c) }`.
//! Presentation attributes (`currentColor`, opacities) only provide a legible monochrome fallback;
//! any CSS rule overrides them.

use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub name: String,
    pub class: String,
    /// One value per category; `None` where there is no data (drawn as a
    /// gap, never as a zero).
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartText {
    pub title: String,
    pub desc: String,
    pub x_label: String,
    pub y_label: String,
    /// What the empty state says when there is nothing to draw (in the
    /// reader's language); "No data" when left empty.
    pub empty: String,
}

// Writing to a String cannot fail, so the fmt::Result is noise.
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{ let _ = write!($out, $($arg)*); }};
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
// Room above the plot for value labels sitting on top of the tallest bar.
const TOP: f64 = 20.0;
const BOTTOM: f64 = 52.0;
const MAX_X_LABELS: usize = 12;
const LABEL_CHARS: usize = 14;
const SERIES_CLASSES: usize = 8;

/// Escapes text for both element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Charts only show non-negative magnitudes; garbage in must not become garbage geometry.
fn clean(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v.min(1e300) } else { 0.0 }
}

/// Rounds to tenths as an integer so boundaries can be subtracted exactly (stacks then sum to the
/// full plot height instead of drifting by rounding error).
fn tenths(v: f64) -> i64 {
    (v * 10.0).round() as i64
}

fn fmt_tenths(t: i64) -> String {
    let sign = if t < 0 { "-" } else { "" };
    let a = t.unsigned_abs();
    if a.is_multiple_of(10) { format!("{sign}{}", a / 10) } else { format!("{sign}{}.{}", a / 10, a % 10) }
}

/// Attribute number: at most one decimal.
fn num(v: f64) -> String {
    fmt_tenths(tenths(v))
}

/// Human label: integers stay integers, big numbers get a k/M/B suffix chosen from `basis` so that all
/// ticks of one axis share a unit (never "7500, 10k").
fn human(v: f64, basis: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let (d, suffix) = match basis.abs() {
        a if a >= 1e9 => (1e9, "B"),
        a if a >= 1e6 => (1e6, "M"),
        a if a >= 1e4 => (1e3, "k"),
        _ => (1.0, ""),
    };
    let x = v / d;
    let prec = if (x - x.round()).abs() < 1e-9 || x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    let s = format!("{x:.prec$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
    format!("{s}{suffix}")
}

fn compact(v: f64) -> String {
    human(v, v)
}

fn pct(v: f64) -> String {
    let p = v * 100.0;
    if (p - p.round()).abs() < 0.05 { format!("{:.0}%", p) } else { format!("{:.1}%", p) }
}

/// 0-based ticks with a 1/2/2.5/5 x 10^k step and at most 5 intervals; the last tick is >= `max`.
/// Every axis that is not a share counts something (people, days, picks), so steps are whole
/// numbers: an axis never reads 0, 0.2, 0.4 (shown as 0, 0, 0, 1, 1, 1).
fn nice_ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 { max.min(1e300) } else { 1.0 };
    let mag = 10f64.powf((max / 5.0).log10().floor()).max(1.0);
    let intervals = |s: f64| ((max / s) - 1e-9).ceil().max(1.0);
    let whole = |s: &f64| s.fract() == 0.0;
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .filter(whole)
        .find(|&s| intervals(s) <= 5.0)
        .unwrap_or(mag * 10.0);
    (0..=intervals(step) as usize).map(|i| i as f64 * step).collect()
}

const UNIT_TICKS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// Label every k-th category so labels neither exceed `MAX_X_LABELS` nor overlap at ~6px per char.
fn label_step(categories: &[String], plot_w: f64) -> usize {
    let n = categories.len();
    let chars = categories.iter().map(|c| c.chars().count().min(LABEL_CHARS)).max().unwrap_or(1);
    let fit = (plot_w / (chars as f64 * 6.2 + 8.0)).floor() as usize;
    let max_labels = fit.clamp(1, MAX_X_LABELS);
    n.div_ceil(max_labels).max(1)
}

fn short_label(s: &str) -> String {
    if s.chars().count() > LABEL_CHARS {
        s.chars().take(LABEL_CHARS - 1).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}

fn series_class(i: usize, class: &str) -> String {
    if class.trim().is_empty() { format!("s{}", i % SERIES_CLASSES) } else { escape(class.trim()) }
}

/// FNV-1a: ids must be deterministic yet distinct when several charts share a page.
fn chart_id(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("chart-{:08x}", h as u32)
}

fn open_svg(out: &mut String, id: &str, class: &str, w: f64, h: f64, title: &str, desc: &str) {
    w!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" class="{class}" role="img" aria-labelledby="{id}-title {id}-desc" font-size="11" fill="currentColor">"#,
        num(w),
        num(h)
    );
    w!(out, r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#, escape(title), escape(desc));
}

/// Plot area geometry: categories occupy equal bands; values map linearly from 0 to `top_val`.
struct Frame {
    left: f64,
    top: f64,
    w: f64,
    h: f64,
    n: usize,
    top_val: f64,
}

impl Frame {
    fn new(n: usize, top_val: f64) -> Self {
        Frame { left: LEFT, top: TOP, w: WIDTH - LEFT - RIGHT, h: HEIGHT - TOP - BOTTOM, n: n.max(1), top_val }
    }
    fn band(&self) -> f64 {
        self.w / self.n as f64
    }
    fn x_center(&self, i: usize) -> f64 {
        self.left + self.band() * (i as f64 + 0.5)
    }
    fn bottom(&self) -> f64 {
        self.top + self.h
    }
    fn y(&self, v: f64) -> f64 {
        let frac = if self.top_val > 0.0 { (v / self.top_val).clamp(0.0, 1.0) } else { 0.0 };
        self.bottom() - frac * self.h
    }
}

/// Opens a full-size chart; `kind` keeps ids distinct between chart types sharing a title.
fn start(kind: &str, text: &ChartText) -> String {
    let mut out = String::new();
    open_svg(&mut out, &chart_id(&[kind, &text.title, &text.desc]), "chart", WIDTH, HEIGHT, &text.title, &text.desc);
    out
}

fn text_at(out: &mut String, class: &str, x: f64, y: f64, anchor: &str, body: &str) {
    w!(out, r#"<text class="{class}" x="{}" y="{}" text-anchor="{anchor}">{}</text>"#, num(x), num(y), escape(body));
}

/// Vertical extent is given as tenths so adjacent rects share exact edges.
fn rect(out: &mut String, class: &str, x: f64, w: f64, top: i64, bottom: i64, tip: &str) {
    let (x, w, y, h) = (num(x), num(w), fmt_tenths(top), fmt_tenths(bottom - top));
    w!(out, r#"<rect class="{class}" x="{x}" y="{y}" width="{w}" height="{h}"><title>{}</title></rect>"#, escape(tip));
}

/// Height of the empty state: a line of text, no axes.
const EMPTY_HEIGHT: f64 = 64.0;

/// The empty state: the chart's title and what to do, without axes or ticks that would suggest
/// zeros.
fn no_data(kind: &str, text: &ChartText) -> String {
    let mut out = String::new();
    let id = chart_id(&[kind, "empty", &text.title, &text.desc]);
    open_svg(&mut out, &id, "chart chart-empty", WIDTH, EMPTY_HEIGHT, &text.title, &text.desc);
    let message = if text.empty.trim().is_empty() { "No data" } else { text.empty.as_str() };
    text_at(&mut out, "label nodata", WIDTH / 2.0, EMPTY_HEIGHT / 2.0 + 4.0, "middle", message);
    out + "</svg>"
}

/// A value to draw: `None` (no data) stays a gap; garbage becomes zero.
fn present(v: Option<&Option<f64>>) -> Option<f64> {
    v.copied().flatten().map(clean)
}

/// Gridlines, tick labels, axis lines, x category labels and axis titles.
fn axes(
    out: &mut String,
    f: &Frame,
    text: &ChartText,
    ticks: &[f64],
    tick_fmt: &dyn Fn(f64) -> String,
    cats: &[String],
) {
    let (x1, x2) = (num(f.left), num(f.left + f.w));
    out.push_str(r#"<g class="grid" stroke="currentColor" stroke-opacity="0.2">"#);
    for &t in ticks.iter().filter(|&&t| t > 0.0) {
        let y = num(f.y(t));
        w!(out, r#"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}"/>"#);
    }
    out.push_str("</g>");
    for &t in ticks {
        text_at(out, "label tick", f.left - 6.0, f.y(t) + 4.0, "end", &tick_fmt(t));
    }
    let (yb, yt) = (num(f.bottom()), num(f.top));
    w!(
        out,
        r#"<g class="axis" stroke="currentColor"><line x1="{x1}" y1="{yb}" x2="{x2}" y2="{yb}"/><line x1="{x1}" y1="{yt}" x2="{x1}" y2="{yb}"/></g>"#
    );
    let k = label_step(cats, f.w);
    for (i, c) in cats.iter().enumerate().filter(|(i, _)| i % k == 0) {
        text_at(out, "label x", f.x_center(i), f.bottom() + 16.0, "middle", &short_label(c));
    }
    if !text.x_label.is_empty() {
        text_at(out, "axis-title x", f.left + f.w / 2.0, HEIGHT - 8.0, "middle", &text.x_label);
    }
    if !text.y_label.is_empty() {
        let (x, y) = (num(14.0), num(f.top + f.h / 2.0));
        w!(
            out,
            r#"<text class="axis-title y" x="{x}" y="{y}" text-anchor="middle" transform="rotate(-90 {x} {y})">{}</text>"#,
            escape(&text.y_label)
        );
    }
}

/// Vertical bars, one per category (e.g. tier distribution). `classes[i]` is the class of bar i.
pub fn bar_chart(
    text: &ChartText,
    categories: &[String],
    values: &[f64],
    classes: &[String],
    value_format: &dyn Fn(f64) -> String,
) -> String {
    bar_chart_linked(text, categories, values, classes, value_format, &[])
}

/// [`bar_chart`] whose bar i, where `links[i]` is given, is a link there.
pub fn bar_chart_linked(
    text: &ChartText,
    categories: &[String],
    values: &[f64],
    classes: &[String],
    value_format: &dyn Fn(f64) -> String,
    links: &[Option<String>],
) -> String {
    if categories.is_empty() {
        return no_data("bar", text);
    }
    let vals: Vec<f64> = (0..categories.len()).map(|i| clean(values.get(i).copied().unwrap_or(0.0))).collect();
    let ticks = nice_ticks(vals.iter().copied().fold(0.0, f64::max));
    let f = Frame::new(categories.len(), *ticks.last().unwrap_or(&1.0));
    let mut out = start("bar", text);
    axes(&mut out, &f, text, &ticks, value_format, categories);
    // A lone bar spanning the whole plot reads as a background, so cap the width.
    let bw = (f.band() * 0.7).min(64.0);
    let show_values = categories.len() <= MAX_X_LABELS;
    let base = tenths(f.bottom());
    for (i, (cat, &v)) in categories.iter().zip(&vals).enumerate() {
        let cls = series_class(i, classes.get(i).map(String::as_str).unwrap_or(""));
        let yt = tenths(f.y(v));
        let label = value_format(v);
        let link = links.get(i).and_then(Option::as_deref);
        if let Some(href) = link {
            w!(out, r#"<a href="{}">"#, escape(href));
        }
        rect(&mut out, &format!("bar {cls}"), f.x_center(i) - bw / 2.0, bw, yt, base, &format!("{cat}: {label}"));
        if link.is_some() {
            out.push_str("</a>");
        }
        if show_values {
            text_at(&mut out, "label value", f.x_center(i), yt as f64 / 10.0 - 4.0, "middle", &label);
        }
    }
    out.push_str("</svg>");
    out
}

/// Stacked vertical bars: one stack per category (e.g. week), one layer per series (e.g. tier). With
/// `percent = true` each stack is normalised to 100%.
pub fn stacked_bars(text: &ChartText, categories: &[String], series: &[Series], percent: bool) -> String {
    let has = |i: usize| series.iter().any(|s| present(s.values.get(i)).is_some());
    if categories.is_empty() || series.is_empty() || !(0..categories.len()).any(has) {
        return no_data("stacked", text);
    }
    let val = |s: &Series, i: usize| present(s.values.get(i)).unwrap_or(0.0);
    let totals: Vec<f64> = (0..categories.len()).map(|i| series.iter().map(|s| val(s, i)).sum()).collect();
    let ticks = if percent { UNIT_TICKS.to_vec() } else { nice_ticks(totals.iter().copied().fold(0.0, f64::max)) };
    let top_val = *ticks.last().unwrap_or(&1.0);
    let f = Frame::new(categories.len(), top_val);
    let mut out = start("stacked", text);
    let tick_fmt = move |t: f64| if percent { pct(t) } else { human(t, top_val) };
    axes(&mut out, &f, text, &ticks, &tick_fmt, categories);
    let bw = (f.band() * 0.7).min(64.0);
    // A category without data is a gap: no stack at all.
    for (i, cat) in categories.iter().enumerate().filter(|(i, _)| has(*i)) {
        let total = totals[i];
        let mut cum = 0.0;
        let mut lower = tenths(f.bottom());
        for (si, s) in series.iter().enumerate() {
            let v = val(s, i);
            if v <= 0.0 {
                continue;
            }
            cum += if percent { v / total } else { v };
            let upper = tenths(f.y(cum));
            let tip = format!("{cat} — {}: {} ({})", s.name, compact(v), pct(v / total));
            rect(
                &mut out,
                &format!("bar {}", series_class(si, &s.class)),
                f.x_center(i) - bw / 2.0,
                bw,
                upper,
                lower,
                &tip,
            );
            lower = upper;
        }
    }
    out.push_str("</svg>");
    out
}

/// Lines over x categories (e.g. weeks), each series a polyline with points; optional shaded band over
/// x index range [from, to) (e.g. a grace period), labelled with `shade_label`. y axis from 0 to max
/// (or 0..1 when `unit_interval`, formatted as percent).
pub fn line_chart(
    text: &ChartText,
    categories: &[String],
    series: &[Series],
    unit_interval: bool,
    shade: Option<(usize, usize, String)>,
) -> String {
    let n = categories.len();
    let val = |v: f64| if unit_interval { clean(v).min(1.0) } else { clean(v) };
    let value = |s: &Series, i: usize| present(s.values.get(i)).map(val);
    if n == 0 || !series.iter().any(|s| (0..n).any(|i| value(s, i).is_some())) {
        return no_data("line", text);
    }
    let max = series.iter().flat_map(|s| (0..n).filter_map(move |i| value(s, i))).fold(0.0, f64::max);
    let ticks = if unit_interval { UNIT_TICKS.to_vec() } else { nice_ticks(max) };
    let top_val = *ticks.last().unwrap_or(&1.0);
    let f = Frame::new(n, top_val);
    let mut out = start("line", text);
    // Drawn first so gridlines and lines stay visible on top of the band.
    if let Some((from, to, label)) = shade {
        let (from, to) = (from.min(n), to.min(n));
        if from < to {
            let (x, w) = (f.left + f.band() * from as f64, f.band() * (to - from) as f64);
            out.push_str(r#"<g fill-opacity="0.1">"#);
            rect(&mut out, "shade", x, w, tenths(f.top), tenths(f.bottom()), &label);
            out.push_str("</g>");
            text_at(&mut out, "label shade-label", x + 4.0, f.top + 12.0, "start", &label);
        }
    }
    let tick_fmt = move |t: f64| if unit_interval { pct(t) } else { human(t, top_val) };
    axes(&mut out, &f, text, &ticks, &tick_fmt, categories);
    for (si, s) in series.iter().enumerate() {
        let cls = series_class(si, &s.class);
        let pts: Vec<(usize, f64, f64, f64)> =
            (0..n).filter_map(|i| value(s, i).map(|v| (i, f.x_center(i), f.y(v), v))).collect();
        if pts.is_empty() {
            continue;
        }
        out.push_str(r#"<g class="series">"#);
        // One polyline per run of consecutive values: a gap in the data is a gap in the line.
        for run in pts.chunk_by(|a, b| b.0 == a.0 + 1) {
            let coords: Vec<String> = run.iter().map(|(_, x, y, _)| format!("{},{}", num(*x), num(*y))).collect();
            w!(
                out,
                r#"<polyline class="line {cls}" points="{}" fill="none" stroke="currentColor" stroke-width="2"/>"#,
                coords.join(" ")
            );
        }
        for (i, x, y, v) in &pts {
            let shown = if unit_interval { pct(*v) } else { compact(*v) };
            w!(
                out,
                r#"<circle class="point {cls}" cx="{}" cy="{}" r="2.5"><title>{} — {}: {shown}</title></circle>"#,
                num(*x),
                num(*y),
                escape(&s.name),
                escape(&categories[*i])
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// A tiny inline chart (no axes, width 120, height 28) for a table cell: bars for each value; title
/// text for accessibility.
pub fn sparkline(title: &str, values: &[f64]) -> String {
    const SW: f64 = 120.0;
    const SH: f64 = 28.0;
    let vals: Vec<f64> = values.iter().map(|&v| clean(v)).collect();
    let max = vals.iter().copied().fold(0.0, f64::max);
    // Screen readers cannot see the bars, so the description carries the gist of the data.
    let desc = match vals.last() {
        None => "No data".to_string(),
        Some(last) => format!("{} values, max {}, latest {}", vals.len(), compact(max), compact(*last)),
    };
    let bits: Vec<String> = vals.iter().map(|v| v.to_bits().to_string()).collect();
    let id = chart_id(&["spark", title, &bits.join(",")]);
    let mut out = String::new();
    open_svg(&mut out, &id, "chart sparkline", SW, SH, title, &desc);
    let base = SH - 1.0;
    let (y, x2) = (num(base), num(SW));
    w!(out, r#"<line class="axis" x1="0" y1="{y}" x2="{x2}" y2="{y}" stroke="currentColor" stroke-opacity="0.3"/>"#);
    if !vals.is_empty() {
        let band = SW / vals.len() as f64;
        let bw = if band >= 2.0 { band * 0.8 } else { band };
        for (i, &v) in vals.iter().enumerate() {
            if v <= 0.0 {
                continue;
            }
            // Keep tiny non-zero values visible; they differ in meaning from zero.
            let h = (v / max * (base - 1.0)).max(1.0);
            let top = tenths(base - h);
            rect(&mut out, "bar s0", band * i as f64 + (band - bw) / 2.0, bw, top, tenths(base), &compact(v));
        }
    }
    out.push_str("</svg>");
    out
}

/// Legend as HTML (not SVG): `<ul class="legend">` with `<li><span class="swatch {class}"></span>name</li>`.
/// Each entry is `(name, class)`, the same order as [`Series`] fields.
pub fn legend(series: &[(String, String)]) -> String {
    if series.is_empty() {
        return String::new();
    }
    let mut out = String::from(r#"<ul class="legend">"#);
    for (i, (name, class)) in series.iter().enumerate() {
        w!(
            out,
            r#"<li><span class="swatch {}" aria-hidden="true"></span>{}</li>"#,
            series_class(i, class),
            escape(name)
        );
    }
    out.push_str("</ul>");
    out
}

/// Row charts (one horizontal bar per labelled row) leave this much room
/// for the labels on the left; rows are this tall.
const ROW_LABEL_W: f64 = 220.0;
const ROW_H: f64 = 26.0;
const ROW_TOP: f64 = 8.0;
const ROW_BOTTOM: f64 = 34.0;

/// Cuts a row label to about `px` pixels at the charts' 11px font (wide
/// characters, such as Chinese, count double).
fn fit_label(s: &str, px: f64) -> String {
    let width = |c: char| if c.is_ascii() { 6.2 } else { 11.0 };
    if s.chars().map(width).sum::<f64>() <= px {
        return s.to_string();
    }
    let mut used = width('…');
    let mut out = String::new();
    for c in s.chars() {
        used += width(c);
        if used > px {
            break;
        }
        out.push(c);
    }
    out + "…"
}

/// The frame of a row chart: the plot to the right of the labels, values
/// from `low` to `high` across it.
struct Rows {
    n: usize,
    low: f64,
    high: f64,
}

impl Rows {
    fn height(&self) -> f64 {
        ROW_TOP + ROW_H * self.n.max(1) as f64 + ROW_BOTTOM
    }
    fn plot_w(&self) -> f64 {
        WIDTH - ROW_LABEL_W - RIGHT - 40.0
    }
    fn x(&self, v: f64) -> f64 {
        let span = self.high - self.low;
        let frac = if span > 0.0 { ((v - self.low) / span).clamp(0.0, 1.0) } else { 0.0 };
        ROW_LABEL_W + frac * self.plot_w()
    }
    fn row_mid(&self, i: usize) -> f64 {
        ROW_TOP + ROW_H * (i as f64 + 0.5)
    }
    fn bottom(&self) -> f64 {
        ROW_TOP + ROW_H * self.n.max(1) as f64
    }

    /// Vertical gridlines with their labels under the plot, the row labels,
    /// and the axis title.
    fn axes(
        &self,
        out: &mut String,
        text: &ChartText,
        ticks: &[f64],
        tick_fmt: &dyn Fn(f64) -> String,
        rows: &[String],
    ) {
        let (y1, y2) = (num(ROW_TOP), num(self.bottom()));
        out.push_str(r#"<g class="grid" stroke="currentColor" stroke-opacity="0.2">"#);
        for &t in ticks {
            let x = num(self.x(t));
            w!(out, r#"<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}"/>"#);
        }
        out.push_str("</g>");
        for &t in ticks {
            text_at(out, "label tick", self.x(t), self.bottom() + 14.0, "middle", &tick_fmt(t));
        }
        for (i, r) in rows.iter().enumerate() {
            text_at(out, "label y", ROW_LABEL_W - 8.0, self.row_mid(i) + 4.0, "end", &fit_label(r, ROW_LABEL_W - 12.0));
        }
        if !text.x_label.is_empty() {
            text_at(
                out,
                "axis-title x",
                self.x((self.low + self.high) / 2.0),
                self.height() - 4.0,
                "middle",
                &text.x_label,
            );
        }
    }
}

/// Horizontal stacked bars: one labelled row per category (a department,
/// a reason), one segment per series (a tier). With `percent = true` each
/// row is normalised to 100%; otherwise each row's total is written at its
/// end. Long labels read better beside a bar than under it.
pub fn stacked_rows(text: &ChartText, categories: &[String], series: &[Series], percent: bool) -> String {
    if categories.is_empty() || series.is_empty() {
        return no_data("rows", text);
    }
    let val = |s: &Series, i: usize| clean(s.values.get(i).copied().flatten().unwrap_or(0.0));
    let totals: Vec<f64> = (0..categories.len()).map(|i| series.iter().map(|s| val(s, i)).sum()).collect();
    let max = totals.iter().copied().fold(0.0, f64::max);
    // Counts of a few (interviews) tick in whole numbers, never "0.2".
    let ticks = match (percent, max.ceil()) {
        (true, _) => UNIT_TICKS.to_vec(),
        (false, m) if m <= 5.0 => (0..=(m.max(1.0) as u32)).map(f64::from).collect(),
        _ => nice_ticks(max),
    };
    let top_val = *ticks.last().unwrap_or(&1.0);
    let f = Rows { n: categories.len(), low: 0.0, high: top_val };
    let mut out = String::new();
    let id = chart_id(&["rows", &text.title, &text.desc]);
    open_svg(&mut out, &id, "chart rows", WIDTH, f.height(), &text.title, &text.desc);
    let tick_fmt = move |t: f64| if percent { pct(t) } else { human(t, top_val) };
    f.axes(&mut out, text, &ticks, &tick_fmt, categories);
    let bh = ROW_H * 0.64;
    for (i, cat) in categories.iter().enumerate() {
        let total = totals[i];
        let y = num(f.row_mid(i) - bh / 2.0);
        let mut cum = 0.0;
        for (si, s) in series.iter().enumerate() {
            let v = val(s, i);
            if v <= 0.0 {
                continue;
            }
            let from = f.x(cum);
            cum += if percent { v / total } else { v };
            let to = f.x(cum);
            let tip = format!("{cat} — {}: {} ({})", s.name, compact(v), pct(v / total));
            w!(
                out,
                r#"<rect class="bar {}" x="{}" y="{y}" width="{}" height="{}"><title>{}</title></rect>"#,
                series_class(si, &s.class),
                num(from),
                num(to - from),
                num(bh),
                escape(&tip)
            );
        }
        if !percent {
            text_at(&mut out, "label value", f.x(cum) + 4.0, f.row_mid(i) + 4.0, "start", &compact(total));
        }
    }
    out.push_str("</svg>");
    out
}

/// One estimate with its interval, as [`intervals`] draws it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimate {
    pub label: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// Estimates with their intervals on a scale centred on zero (e.g. a
/// difference in proportion points): one row each, a line from low to
/// high with a dot at the estimate, and the zero line marked, so that an
/// interval crossing it reads at a glance as "no clear difference".
pub fn intervals(text: &ChartText, rows: &[Estimate], value_format: &dyn Fn(f64) -> String) -> String {
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    if rows.is_empty() {
        return no_data("intervals", text);
    }
    let extent = rows.iter().flat_map(|r| [r.low, r.high, r.value]).map(|v| finite(v).abs()).fold(0.0, f64::max);
    let half = *nice_ticks(extent).last().unwrap_or(&1.0);
    let ticks = [-half, -half / 2.0, 0.0, half / 2.0, half];
    let f = Rows { n: rows.len(), low: -half, high: half };
    let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    let mut out = String::new();
    let id = chart_id(&["intervals", &text.title, &text.desc]);
    open_svg(&mut out, &id, "chart intervals", WIDTH, f.height(), &text.title, &text.desc);
    f.axes(&mut out, text, &ticks, value_format, &labels);
    let (x0, y1, y2) = (num(f.x(0.0)), num(ROW_TOP), num(f.bottom()));
    w!(out, r#"<line class="zero" x1="{x0}" y1="{y1}" x2="{x0}" y2="{y2}" stroke="currentColor" stroke-width="1.5"/>"#);
    for (i, r) in rows.iter().enumerate() {
        let (v, lo, hi) = (finite(r.value), finite(r.low), finite(r.high));
        let (y, cap_t, cap_b) = (num(f.row_mid(i)), num(f.row_mid(i) - 5.0), num(f.row_mid(i) + 5.0));
        let (xl, xh) = (num(f.x(lo)), num(f.x(hi)));
        let tip = format!("{}: {} ({} – {})", r.label, value_format(v), value_format(lo), value_format(hi));
        w!(
            out,
            r#"<g class="estimate s0"><title>{}</title><line class="line" x1="{xl}" y1="{y}" x2="{xh}" y2="{y}" stroke="currentColor" stroke-width="2"/><line class="line" x1="{xl}" y1="{cap_t}" x2="{xl}" y2="{cap_b}" stroke="currentColor" stroke-width="2"/><line class="line" x1="{xh}" y1="{cap_t}" x2="{xh}" y2="{cap_b}" stroke="currentColor" stroke-width="2"/><circle class="point" cx="{}" cy="{y}" r="4"/></g>"#,
            escape(&tip),
            num(f.x(v))
        );
        text_at(&mut out, "label value", f.x(hi) + 6.0, f.row_mid(i) + 4.0, "start", &value_format(v));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(title: &str) -> ChartText {
        ChartText {
            title: title.into(),
            desc: "d".into(),
            x_label: "Week".into(),
            y_label: "Users".into(),
            empty: String::new(),
        }
    }

    fn cats(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("W{i}")).collect()
    }

    fn series(n: usize, values: Vec<f64>) -> Vec<Series> {
        (0..n)
            .map(|s| Series {
                name: format!("T{s}"),
                class: String::new(),
                values: values.iter().copied().map(Some).collect(),
            })
            .collect()
    }

    fn tags<'a>(svg: &'a str, prefix: &str) -> Vec<&'a str> {
        svg.match_indices(prefix).map(|(i, _)| &svg[i..i + svg[i..].find('>').unwrap()]).collect()
    }

    /// Balanced root/titles, no NaN/inf leaking out, and every number inside a tag has <= 1 decimal.
    fn well_formed(svg: &str) {
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>") && svg.matches("<svg").count() == 1, "{svg}");
        assert_eq!(svg.matches("<title").count(), svg.matches("</title>").count());
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        for tag in svg.split('<').map(|t| t.split('>').next().unwrap()) {
            for tok in tag.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
                assert!(tok.split_once('.').is_none_or(|(_, d)| d.len() <= 1), "{tok} in {tag}");
            }
        }
    }

    #[test]
    fn escapes_script_title_and_labels() {
        let t = ChartText { title: "<script>alert('x')</script>".into(), desc: "a & \"b\"".into(), ..text("") };
        let svg = bar_chart(&t, &["<b>".into()], &[1.0], &["x\" onload=\"y".into()], &|v| format!("{v}"));
        assert!(!svg.contains("<script>") && !svg.contains("<b>") && !svg.contains("\" onload"));
        assert!(
            svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") && svg.contains("a &amp; &quot;b&quot;")
        );
        assert_eq!(escape(r#"&<>"'"#), "&amp;&lt;&gt;&quot;&#39;");
    }

    #[test]
    fn role_and_aria_point_at_title_and_desc() {
        let s = series(1, vec![1.0, 2.0]);
        for svg in [
            bar_chart(&text("t"), &cats(2), &[1.0, 2.0], &[], &compact),
            stacked_bars(&text("t"), &cats(2), &s, false),
            line_chart(&text("t"), &cats(2), &s, false, None),
            sparkline("t", &[1.0]),
        ] {
            well_formed(&svg);
            let root = &svg[..svg.find('>').unwrap()];
            assert!(
                root.contains(r#"role="img""#) && root.contains(r#"class="chart"#) && root.contains("viewBox=\"0 0 ")
            );
            assert!(!root.contains(" width=") && !root.contains(" height="));
            let ids = root.split("aria-labelledby=\"").nth(1).unwrap().split('"').next().unwrap();
            let (t, d) = ids.split_once(' ').unwrap();
            assert!(svg.contains(&format!(r#"<title id="{t}">"#)) && svg.contains(&format!(r#"<desc id="{d}">"#)));
        }
    }

    #[test]
    fn one_bar_per_category_with_classes() {
        let classes = vec!["tier-high".to_string()];
        let svg = bar_chart(&text("t"), &cats(5), &[3.0, f64::NAN, -2.0, f64::INFINITY, 87.0], &classes, &compact);
        well_formed(&svg);
        assert_eq!(svg.matches("<rect class=\"bar").count(), 5);
        assert!(svg.contains(r#"class="bar tier-high""#) && svg.contains(r#"class="bar s4""#));
        assert!(svg.contains(">100</text>"), "y axis tops out at the nice tick");
        let zeros = bar_chart(&text("t"), &cats(1), &[0.0], &[], &compact);
        well_formed(&zeros);
        assert_eq!(zeros.matches("<rect class=\"bar").count(), 1);
    }

    #[test]
    fn percent_stacks_fill_full_height() {
        let mut s = series(3, vec![1.0, 8.0, 3.3]);
        s[1].values = vec![Some(1.0 / 3.0), Some(0.1), Some(7.7)];
        let svg = stacked_bars(&text("t"), &cats(3), &s, true);
        well_formed(&svg);
        let rects = tags(&svg, "<rect class=\"bar");
        assert_eq!(rects.len(), 9);
        let height = |r: &&str| r.split("height=\"").nth(1).unwrap().split('"').next().unwrap().parse::<f64>().unwrap();
        for stack in rects.chunks(3) {
            let sum: f64 = stack.iter().map(height).sum();
            assert!((sum - (HEIGHT - TOP - BOTTOM)).abs() < 1e-6, "{sum}");
        }
        assert!(svg.contains(">100%</text>"));
    }

    #[test]
    fn empty_data_renders_no_data() {
        for svg in [
            bar_chart(&text("t"), &[], &[], &[], &compact),
            stacked_bars(&text("t"), &cats(3), &[], true),
            line_chart(&text("t"), &[], &[], true, Some((0, 2, "grace".into()))),
            sparkline("t", &[]),
        ] {
            well_formed(&svg);
            assert!(svg.contains("No data") && svg.contains(r#"role="img""#));
        }
    }

    #[test]
    fn nice_ticks_are_round() {
        assert_eq!(nice_ticks(87.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(nice_ticks(100.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(nice_ticks(3.0), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(nice_ticks(9000.0), vec![0.0, 2000.0, 4000.0, 6000.0, 8000.0, 10000.0]);
        assert_eq!(nice_ticks(0.0).last(), Some(&1.0));
        assert_eq!(nice_ticks(f64::NAN).last(), Some(&1.0));
        for m in [13.0, 999.0, 12345.0, 1e300] {
            let t = nice_ticks(m);
            assert!((4..=6).contains(&t.len()) && *t.last().unwrap() >= m && t[t.len() - 1].is_finite(), "{t:?}");
        }
        assert_eq!(
            (human(7500.0, 1e4), human(2.5e5, 2e6), compact(12345.0)),
            ("7.5k".into(), "0.25M".into(), "12.3k".into())
        );
        assert_eq!((compact(0.30000000000000004), num(12.345), num(4.0)), ("0.3".into(), "12.3".into(), "4".into()));
    }

    #[test]
    fn many_categories_label_every_kth() {
        let s = vec![Series { name: "A".into(), class: "tier-a".into(), values: vec![Some(0.5); 30] }];
        let svg = line_chart(&text("t"), &cats(30), &s, true, Some((4, 8, "Grace".into())));
        well_formed(&svg);
        assert_eq!(tags(&svg, r#"<text class="label x""#).len(), 10);
        assert!(svg.contains(">W1<") && svg.contains(">W4<") && !svg.contains(">W2<") && svg.contains(">W28<"));
        assert_eq!(svg.matches("<circle class=\"point tier-a\"").count(), 30);
        assert!(svg.contains(r#"class="shade""#) && svg.contains(">Grace</text>") && svg.contains(">50%</text>"));
        assert_eq!(label_step(&cats(12), 560.0), 1);
        let single =
            line_chart(&text("t"), &cats(1), &series(2, vec![1.0 / 3.0, 9.0]), false, Some((0, 9, "x".into())));
        well_formed(&single);
        assert_eq!(single.matches("<circle").count(), 2);
    }

    #[test]
    fn sparkline_and_legend() {
        let s = sparkline("Activity <team>", &[0.0, 1.0, f64::NAN, 4.0]);
        well_formed(&s);
        assert!(s.contains(r#"viewBox="0 0 120 28""#) && s.contains("Activity &lt;team&gt;"));
        assert_eq!(s.matches("<rect").count(), 2);
        let l = legend(&[("High & mighty".into(), "tier-high".into()), ("Other".into(), String::new())]);
        let swatch = |c: &str| format!(r#"<li><span class="swatch {c}" aria-hidden="true"></span>"#);
        let want = format!(
            r#"<ul class="legend">{}High &amp; mighty</li>{}Other</li></ul>"#,
            swatch("tier-high"),
            swatch("s1")
        );
        assert_eq!(l, want);
        assert_eq!(legend(&[]), "");
    }

    #[test]
    fn row_charts_stack_segments_beside_their_labels() {
        let rows: Vec<String> =
            vec!["Customer service and support".into(), "研发中心平台工程部门与基础设施团队和运维".into()];
        let s = vec![
            Series { name: "Deep".into(), class: "tier-deep".into(), values: vec![Some(3.0), Some(1.0)] },
            Series { name: "Silent".into(), class: "tier-silent".into(), values: vec![Some(1.0), Some(0.0)] },
        ];
        let svg = stacked_rows(&text("t"), &rows, &s, true);
        well_formed(&svg);
        assert_eq!(tags(&svg, "<rect class=\"bar").len(), 3, "no segment for a zero");
        let width = |r: &&str| r.split("width=\"").nth(1).unwrap().split('"').next().unwrap().parse::<f64>().unwrap();
        let rects = tags(&svg, "<rect class=\"bar");
        assert!((width(&rects[0]) + width(&rects[1]) - width(&rects[2])).abs() < 0.2, "both rows fill the plot");
        assert!(svg.contains(">Customer service and support</text>"), "{svg}");
        assert!(svg.contains(">研发中心平台工程部门与基础设施团队…</text>"), "wide characters count double: {svg}");
        assert!(fit_label(&"x".repeat(40), 208.0).ends_with("x…"), "a long label is cut");
        assert!(svg.contains(">100%</text>"));
        let counts = stacked_rows(&text("t"), &rows, &s, false);
        well_formed(&counts);
        assert!(counts.contains(r#"class="label value""#) && counts.contains(">4</text>"), "totals at the end");
        let ticks: Vec<&str> = tags(&counts, r#"<text class="label tick""#);
        assert_eq!(ticks.len(), 5, "0 to 4 in whole numbers: {counts}");
        assert!(stacked_rows(&text("t"), &[], &s, true).contains("No data"));
    }

    #[test]
    fn intervals_centre_on_zero() {
        let rows = vec![
            Estimate { label: "Study A".into(), value: 0.12, low: -0.04, high: 0.281 },
            Estimate { label: "Study B".into(), value: f64::NAN, low: -0.3, high: 0.1 },
        ];
        let svg = intervals(&text("t"), &rows, &|v| format!("{:+.0}", v * 100.0));
        well_formed(&svg);
        assert_eq!(svg.matches("<circle class=\"point\"").count(), 2);
        assert!(svg.contains(r#"class="zero""#) && svg.contains(">+0</text>") && svg.contains(">-50</text>"), "{svg}");
        // The zero line sits in the middle of the plot.
        let x0: f64 = svg.split(r#"class="zero" x1=""#).nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
        assert!((x0 - (ROW_LABEL_W + (WIDTH - ROW_LABEL_W - RIGHT - 40.0) / 2.0)).abs() < 0.1);
        assert!(intervals(&text("t"), &[], &|v| v.to_string()).contains("No data"));
    }

    #[test]
    fn deterministic_output() {
        let a = bar_chart(&text("t"), &cats(3), &[1.0, 2.0, 3.0], &[], &compact);
        assert_eq!(a, bar_chart(&text("t"), &cats(3), &[1.0, 2.0, 3.0], &[], &compact));
        assert_ne!(chart_id(&["bar", "t"]), chart_id(&["bar", "u"]));
    }

    /// The labels of the y axis's ticks.
    fn tick_labels(svg: &str) -> Vec<String> {
        svg.split(r#"<text class="label tick""#)
            .skip(1)
            .map(|t| t.split('>').nth(1).unwrap().split('<').next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn count_axes_tick_in_whole_numbers() {
        for m in [0.0, 0.003, 0.7, 1.0, 2.0, 3.0, 4.5, 7.0, 12.0, 13.0] {
            let t = nice_ticks(m);
            assert!(t.iter().all(|v| v.fract() == 0.0), "{m}: {t:?}");
            assert!(*t.last().unwrap() >= m && t.len() <= 6, "{m}: {t:?}");
            let distinct: std::collections::BTreeSet<i64> = t.iter().map(|v| *v as i64).collect();
            assert_eq!(distinct.len(), t.len(), "no tick repeats: {t:?}");
        }
        assert_eq!(nice_ticks(0.0), vec![0.0, 1.0]);
        assert_eq!(nice_ticks(4.0), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(nice_ticks(7.0), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        // Three weeks of 0, 1 and 2 interactive days: no 0.5 days on the axis.
        let days = series(1, vec![0.0, 1.0, 2.0]);
        let svg = line_chart(&text("t"), &cats(3), &days, false, None);
        assert_eq!(tick_labels(&svg), ["0", "1", "2"]);
        let bars = bar_chart(&text("t"), &cats(2), &[1.0, 0.0], &[], &compact);
        assert_eq!(tick_labels(&bars), ["0", "1"]);
    }

    #[test]
    fn no_data_is_a_gap_not_a_zero() {
        // Weeks 0 and 1 have no rate (everyone still in the grace period), week 3 is missing.
        let s = vec![Series {
            name: "Login rate".into(),
            class: String::new(),
            values: vec![None, None, Some(0.5), None, Some(0.75), Some(0.8)],
        }];
        let svg = line_chart(&text("t"), &cats(6), &s, true, None);
        well_formed(&svg);
        assert_eq!(svg.matches("<circle").count(), 3, "a point only where there is a value");
        assert!(!svg.contains("W1: 0%") && !svg.contains("W2: 0%"), "no invented zeros");
        let lines = tags(&svg, "<polyline");
        assert_eq!(lines.len(), 2, "the line breaks at the missing week: {lines:?}");
        assert_eq!(lines[0].matches(',').count(), 1, "a lone point before the gap");
        assert_eq!(lines[1].matches(',').count(), 2);
        // A real zero is drawn.
        let zero = vec![Series { name: "z".into(), class: String::new(), values: vec![Some(0.0), Some(0.5)] }];
        assert_eq!(line_chart(&text("t"), &cats(2), &zero, true, None).matches("<circle").count(), 2);
    }

    #[test]
    fn nothing_is_drawn_before_the_first_data() {
        // The tier mix: the first two weeks come before the first event.
        let mut s = series(2, vec![0.0, 0.0, 3.0, 4.0]);
        for t in &mut s {
            t.values[0] = None;
            t.values[1] = None;
        }
        let svg = stacked_bars(&text("t"), &cats(4), &s, true);
        well_formed(&svg);
        let rects = tags(&svg, "<rect class=\"bar");
        assert_eq!(rects.len(), 4, "two stacks of two layers, none for the first weeks");
        assert!(!svg.contains("<title>W1 — ") && !svg.contains("<title>W2 — ") && svg.contains("<title>W3 — "));
        // The first category still has its label: the gap is visible as a gap.
        assert!(svg.contains(">W1</text>"));
    }

    #[test]
    fn empty_charts_show_an_empty_state_without_axes() {
        let t = ChartText { empty: "No activity imported yet".into(), ..text("t") };
        let none = vec![Series { name: "a".into(), class: String::new(), values: vec![None, None] }];
        for svg in [
            bar_chart(&t, &[], &[], &[], &compact),
            stacked_bars(&t, &cats(2), &none, true),
            line_chart(&t, &cats(2), &none, false, None),
        ] {
            well_formed(&svg);
            assert!(svg.contains(">No activity imported yet</text>") && svg.contains("chart-empty"), "{svg}");
            assert!(!svg.contains("class=\"axis\"") && !svg.contains("label tick"), "no axes: {svg}");
        }
    }
}
