//! The HTTP client the `openidconnect` crate talks to providers through:
//! its async client trait over the reqwest 0.13 already in the build (the
//! crate's own reqwest feature would bring a second reqwest). No redirects
//! are followed (a provider's endpoints answer directly; following them
//! would let a discovery document lead requests elsewhere), times are
//! bounded and answers are read to at most 1 MiB.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// The shared client (one connection pool for every provider).
#[derive(Clone)]
pub struct Http(reqwest::Client);

impl Http {
    pub fn shared() -> anyhow::Result<Http> {
        static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
        if let Some(c) = CLIENT.get() {
            return Ok(Http(c.clone()));
        }
        crate::install_tls_provider();
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let built = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Undercurrent/", env!("CARGO_PKG_VERSION"), " (sign-in)"))
            .build()?;
        Ok(Http(CLIENT.get_or_init(|| built).clone()))
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let method =
            reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).map_err(|e| HttpError(e.to_string()))?;
        let mut builder = self.0.request(method, &url).body(body);
        for (name, value) in &parts.headers {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let mut response = builder.send().await.map_err(|e| HttpError(format!("{url}: {e}")))?;
        let mut out = openidconnect::http::Response::builder().status(response.status().as_u16());
        for (name, value) in response.headers() {
            out = out.header(name.as_str(), value.as_bytes());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| HttpError(format!("{url}: {e}")))? {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(HttpError(format!("{url}: the answer is larger than 1 MiB")));
            }
            bytes.extend_from_slice(&chunk);
        }
        out.body(bytes).map_err(|e| HttpError(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
