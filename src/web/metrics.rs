//! `/metrics` in the Prometheus text format, when the `metrics.enabled`
//! setting is on: requests by route and status, a latency histogram by
//! route, imports by status, and the outbox's depth and failures. Routes
//! are counted by their pattern (`/people/{user_id}`), never by a path that
//! could carry a person's id.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::{HttpResponse, web};

use super::error::WebError;
use super::state::AppState;
use crate::storage::{outbox, settings as store};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The method labels: the standard methods, and one bucket for any other
/// token a client sends (a label per token would let anyone grow the
/// series without bound).
const METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];

pub fn method_label(method: &str) -> &'static str {
    METHODS.iter().find(|m| **m == method).copied().unwrap_or("other")
}

#[derive(Default)]
struct Route {
    /// By (method, status).
    counts: BTreeMap<(&'static str, u16), u64>,
    /// Cumulative counts per bucket, then +Inf.
    buckets: [u64; BUCKETS.len() + 1],
    sum_seconds: f64,
}

/// What this process has served since it started.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, Route>>,
}

impl Metrics {
    /// Counts a request. `route` must be a pattern from `routes.rs` (or
    /// "unmatched"), never a path.
    pub fn observe(&self, route: &str, method: &str, status: u16, took: Duration) {
        let Ok(mut routes) = self.routes.lock() else { return };
        let r = routes.entry(route.to_string()).or_default();
        *r.counts.entry((method_label(method), status)).or_default() += 1;
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                r.buckets[i] += 1;
            }
        }
        r.buckets[BUCKETS.len()] += 1;
        r.sum_seconds += secs;
    }

    fn render(&self, out: &mut String) {
        let Ok(routes) = self.routes.lock() else { return };
        out.push_str("# HELP undercurrent_http_requests_total Requests served, by route pattern, method and status.\n");
        out.push_str("# TYPE undercurrent_http_requests_total counter\n");
        for (route, r) in routes.iter() {
            for ((method, status), n) in &r.counts {
                let _ = writeln!(
                    out,
                    "undercurrent_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    label(route)
                );
            }
        }
        out.push_str("# HELP undercurrent_http_request_duration_seconds Time to answer, by route pattern.\n");
        out.push_str("# TYPE undercurrent_http_request_duration_seconds histogram\n");
        for (route, r) in routes.iter() {
            let route = label(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "undercurrent_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    r.buckets[i]
                );
            }
            let total = r.buckets[BUCKETS.len()];
            let _ = writeln!(
                out,
                "undercurrent_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {total}"
            );
            let _ =
                writeln!(out, "undercurrent_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", r.sum_seconds);
            let _ = writeln!(out, "undercurrent_http_request_duration_seconds_count{{route=\"{route}\"}} {total}");
        }
    }
}

fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', " ")
}

pub async fn enabled(state: &AppState) -> anyhow::Result<bool> {
    Ok(store::all(&state.db).await?.get("metrics.enabled").is_some_and(|v| v == "true"))
}

/// The scrape. 404 unless the setting is on (so that a default install
/// shows nothing about itself).
pub async fn scrape(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    if !enabled(&state).await? {
        return Err(WebError::NotFound);
    }
    let mut out = String::new();
    state.metrics.render(&mut out);
    out.push_str("# HELP undercurrent_imports_total Imports recorded, by status.\n");
    out.push_str("# TYPE undercurrent_imports_total gauge\n");
    for (status, n) in crate::storage::imports::counts(&state.db).await? {
        let _ = writeln!(out, "undercurrent_imports_total{{status=\"{}\"}} {n}", label(&status));
    }
    out.push_str("# HELP undercurrent_outbox_messages Messages in the outbox, by state (pending is the depth).\n");
    out.push_str("# TYPE undercurrent_outbox_messages gauge\n");
    for (state_name, n) in outbox::counts(&state.db).await? {
        let _ = writeln!(out, "undercurrent_outbox_messages{{state=\"{}\"}} {n}", label(&state_name));
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_status_with_a_cumulative_histogram() {
        let m = Metrics::default();
        m.observe("/people/{user_id}", "GET", 200, Duration::from_millis(3));
        m.observe("/people/{user_id}", "GET", 200, Duration::from_millis(30));
        m.observe("/people/{user_id}", "GET", 404, Duration::from_secs(20));
        let mut out = String::new();
        m.render(&mut out);
        assert!(
            out.contains(
                "undercurrent_http_requests_total{route=\"/people/{user_id}\",method=\"GET\",status=\"200\"} 2"
            )
        );
        assert!(out.contains("status=\"404\"} 1"));
        assert!(
            out.contains(
                "undercurrent_http_request_duration_seconds_bucket{route=\"/people/{user_id}\",le=\"0.005\"} 1"
            )
        );
        assert!(out.contains("le=\"0.05\"} 2"));
        assert!(out.contains("le=\"10\"} 2"));
        assert!(out.contains("le=\"+Inf\"} 3"));
        assert!(out.contains("undercurrent_http_request_duration_seconds_count{route=\"/people/{user_id}\"} 3"));
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let m = Metrics::default();
        for i in 0..100 {
            m.observe("unmatched", &format!("X{i}"), 404, Duration::from_millis(1));
        }
        m.observe("unmatched", "PUT", 404, Duration::from_millis(1));
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("method=\"other\",status=\"404\"} 100"), "{out}");
        assert!(out.contains("method=\"PUT\""));
        assert!(!out.contains("X1"));
    }
}
