//! One file per page or action. Every handler has the same shape: who is
//! asking, may they, parse, do, render or redirect.

pub mod accounts;
pub mod add_to_study;
pub mod adoption;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod calendar_feed;
pub mod codebook;
pub mod dashboard;
pub mod first_run;
pub mod identity;
mod import_notes;
pub mod imports;
pub mod interviews;
pub mod language;
pub mod mapping;
pub mod oidc;
pub mod participant;
pub mod people;
pub mod person;
pub mod place;
pub mod report;
pub mod rights;
pub mod rounds;
pub mod settings;
pub mod static_files;
pub mod studies;
pub mod survey_response;
pub mod surveys;
pub mod tokens;
pub mod welcome;

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::error::WebError;

/// Renders a template as an HTML page.
pub fn html(template: &impl Template) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(template.render()?))
}

/// Redirects after a successful post.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_string())).finish()
}

/// The client's address, for throttling and the audit log.
pub fn client_ip(req: &actix_web::HttpRequest) -> String {
    let trusted = req.app_data::<web::Data<super::AppState>>().map(|s| s.trusted_proxies.clone()).unwrap_or_default();
    let forwarded: Vec<&str> = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    client_address(req.peer_addr().map(|a| a.ip()), &forwarded, &trusted).map(|ip| ip.to_string()).unwrap_or_default()
}

/// The peer; or, when the peer is a trusted reverse proxy, the nearest
/// address in `X-Forwarded-For` (read from the right) that is not itself
/// a trusted proxy. Anyone can write that header, so it counts only as far
/// as trusted proxies vouch for it.
pub fn client_address(peer: Option<IpAddr>, forwarded: &[&str], trusted: &[IpAddr]) -> Option<IpAddr> {
    let mut client = peer?;
    let hops = forwarded.iter().flat_map(|h| h.split(',')).map(str::trim).rev();
    for hop in hops {
        if !trusted.contains(&client) {
            break;
        }
        match hop.parse::<IpAddr>().or_else(|_| hop.parse::<SocketAddr>().map(|a| a.ip())) {
            Ok(ip) => client = ip,
            Err(_) => break,
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy = ip("10.0.0.2");
        let trusted = [proxy, ip("10.0.0.3")];
        let peer = Some(proxy);
        // No proxy configured: the peer, whatever the header says.
        assert_eq!(client_address(Some(ip("203.0.113.9")), &["198.51.100.1"], &trusted), Some(ip("203.0.113.9")));
        assert_eq!(client_address(peer, &["198.51.100.1"], &[]), Some(proxy));
        // Behind the proxy: the address it saw.
        assert_eq!(client_address(peer, &["198.51.100.1"], &trusted), Some(ip("198.51.100.1")));
        // A client's forged first entry is not believed: the proxy appended the real one.
        assert_eq!(client_address(peer, &["1.2.3.4, 198.51.100.1"], &trusted), Some(ip("198.51.100.1")));
        // Two trusted proxies in a row, over two header lines, ports and IPv6.
        assert_eq!(
            client_address(peer, &["1.2.3.4", "198.51.100.1:5000, 10.0.0.3"], &trusted),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(client_address(peer, &["2001:db8::7"], &trusted), Some(ip("2001:db8::7")));
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(client_address(peer, &["not-an-address"], &trusted), Some(proxy));
        assert_eq!(client_address(peer, &[], &trusted), Some(proxy));
        assert_eq!(client_address(None, &["1.2.3.4"], &trusted), None);
    }
}
