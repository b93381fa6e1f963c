//! Signing in with an OpenID Connect provider (Entra ID, Okta, Keycloak,
//! Feishu...), through the `openidconnect` crate: discovery, the
//! authorization code flow with PKCE, state and nonce kept server-side
//! (sealed, single use, ten minutes), the ID token's signature, issuer,
//! audience, expiry and nonce checked by the crate, the provider's keys
//! cached with its discovery document and fetched again when a token names
//! a key the cache does not hold (key rotation). Then the account: by the
//! linked subject, else by the verified e-mail, else created just in time
//! when the provider allows it, its role from the groups claim mapping.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use anyhow::{Context, Result};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, LogoutRequest,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope,
    SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::oidc_http::Http;
use crate::app::secrets::{open_sealed, random_token, seal, token_hash};
use crate::domain::account::parse_email;
use crate::domain::oidc::role_of;
use crate::storage::oidc::{self as store, Provider};
use crate::storage::{Db, accounts, audit, now};

/// How long a sign-in may take at the provider.
pub const LOGIN_SECONDS: i64 = 10 * 60;
/// How long a discovery document and its keys are used before being read
/// again (a token naming an unknown key reads the keys at once).
pub const DISCOVERY_SECONDS: i64 = 3600;

/// The claims beyond the standard ones (the groups claim among them).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub rest: BTreeMap<String, serde_json::Value>,
}
impl AdditionalClaims for OtherClaims {}

type Fields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<Fields, CoreTokenType>;
type OidcClient = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Discovery documents (with their keys) by provider, read at most once an
/// hour, and again when the issuer changes or a key is unknown.
#[derive(Default)]
pub struct Discovery {
    documents: Mutex<HashMap<i64, (i64, String, ProviderMetadataWithLogout)>>,
}

impl Discovery {
    fn cached(&self, provider: &Provider) -> Option<ProviderMetadataWithLogout> {
        let map = self.documents.lock().ok()?;
        let (at, issuer, doc) = map.get(&provider.id)?;
        (*issuer == provider.settings.issuer_url && now() - at < DISCOVERY_SECONDS).then(|| doc.clone())
    }

    fn keep(&self, provider: &Provider, doc: &ProviderMetadataWithLogout) {
        if let Ok(mut map) = self.documents.lock() {
            map.insert(provider.id, (now(), provider.settings.issuer_url.clone(), doc.clone()));
        }
    }

    /// The provider's discovery document, from the cache or its issuer.
    pub async fn document(&self, provider: &Provider) -> Result<ProviderMetadataWithLogout> {
        if let Some(doc) = self.cached(provider) {
            return Ok(doc);
        }
        let issuer = IssuerUrl::new(provider.settings.issuer_url.clone()).context("the issuer URL")?;
        let doc = ProviderMetadataWithLogout::discover_async(issuer, &Http::shared()?)
            .await
            .with_context(|| format!("discovery at {}", provider.settings.issuer_url))?;
        self.keep(provider, &doc);
        Ok(doc)
    }

    /// Reads the provider's keys again (a token named a key not held).
    async fn refresh_keys(
        &self,
        provider: &Provider,
        doc: ProviderMetadataWithLogout,
    ) -> Result<ProviderMetadataWithLogout> {
        let keys =
            CoreJsonWebKeySet::fetch_async(doc.jwks_uri(), &Http::shared()?).await.context("the provider's keys")?;
        let doc = doc.set_jwks(keys);
        self.keep(provider, &doc);
        Ok(doc)
    }
}

/// The client secret: sealed in the database, or read from the named
/// environment variable; none for a public client (PKCE alone).
fn client_secret(provider: &Provider) -> Option<ClientSecret> {
    if !provider.secret_env.is_empty() {
        return std::env::var(&provider.secret_env).ok().filter(|v| !v.is_empty()).map(ClientSecret::new);
    }
    if provider.secret_sealed.is_empty() {
        return None;
    }
    open_sealed(&provider.secret_sealed, &crate::domain::oidc::secret_context(&provider.settings.slug))
        .map(ClientSecret::new)
}

/// The address the provider sends the browser back to.
pub fn redirect_uri(base: &str, slug: &str) -> String {
    format!("{}/auth/oidc/{slug}/callback", base.trim_end_matches('/'))
}

fn client(provider: &Provider, doc: ProviderMetadataWithLogout, base: &str) -> Result<OidcClient> {
    let redirect = RedirectUrl::new(redirect_uri(base, &provider.settings.slug)).context("the redirect URI")?;
    Ok(OidcClient::from_provider_metadata(
        doc,
        ClientId::new(provider.settings.client_id.clone()),
        client_secret(provider),
    )
    .set_redirect_uri(redirect))
}

/// What is kept, sealed, while the person is at the provider.
#[derive(Serialize, Deserialize)]
struct Pending {
    nonce: String,
    verifier: String,
}

/// A sign-in begun: where to send the browser, and the state to bind to it
/// (a cookie), so that a callback from another browser is refused.
pub struct Started {
    pub url: String,
    pub state: String,
}

/// Begins a sign-in with `provider`; `base` is this site's address.
pub async fn start(db: &Db, discovery: &Discovery, provider: &Provider, base: &str, next: &str) -> Result<Started> {
    let doc = discovery.document(provider).await?;
    let client = client(provider, doc, base)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        || CsrfToken::new(random_token()),
        || Nonce::new(random_token()),
    );
    for scope in provider.settings.scope_list() {
        request = request.add_scope(Scope::new(scope.to_string()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    let pending = Pending { nonce: nonce.secret().clone(), verifier: verifier.secret().clone() };
    let state_hash = token_hash(state.secret());
    let sealed = seal(&serde_json::to_string(&pending)?, &format!("oidc-login:{state_hash}"));
    store::prune_logins(db, now() - LOGIN_SECONDS).await?;
    store::begin_login(db, &state_hash, provider.id, &sealed, next).await?;
    Ok(Started { url: url.to_string(), state: state.secret().clone() })
}

/// Why a sign-in through a provider was refused: a catalog key for the
/// person; the details go to the log and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such sign-in under way (unknown, used, expired, or another browser).
    State,
    /// The provider answered with an error (the person cancelled...).
    Provider,
    /// The code exchange or the ID token's checks failed.
    Token,
    /// The e-mail is missing or not verified, and no subject is linked.
    Email,
    /// No account matches and just-in-time creation is off.
    NoAccount,
    /// No group maps to a role and the provider refuses unmapped people.
    NoRole,
    /// The account is disabled.
    Disabled,
}

impl Refusal {
    pub fn key(self) -> &'static str {
        match self {
            Refusal::State => "oidc.refused.state",
            Refusal::Provider => "oidc.refused.provider",
            Refusal::Token => "oidc.refused.token",
            Refusal::Email => "oidc.refused.email",
            Refusal::NoAccount => "oidc.refused.no_account",
            Refusal::NoRole => "oidc.refused.no_role",
            Refusal::Disabled => "oidc.refused.disabled",
        }
    }
}

/// What the browser brought back.
pub struct Callback<'a> {
    pub state: &'a str,
    pub code: Option<&'a str>,
    pub error: Option<&'a str>,
    /// The state this browser was given (its cookie).
    pub browser_state: Option<&'a str>,
}

/// A signed-in account: the session's account, where to go, and the ID
/// token (for the provider's logout).
pub struct SignedIn {
    pub account_id: i64,
    pub email: String,
    pub next: String,
    pub id_token: String,
    pub provider_id: i64,
}

/// Finishes a sign-in with `provider`.
pub async fn finish(
    db: &Db,
    discovery: &Discovery,
    provider: &Provider,
    base: &str,
    back: Callback<'_>,
) -> Result<Result<SignedIn, Refusal>> {
    let state_hash = token_hash(back.state);
    // Taken (deleted) first: a state works once, whatever follows.
    let Some((provider_id, sealed, next, created)) = store::take_login(db, &state_hash).await? else {
        return Ok(Err(Refusal::State));
    };
    let same_browser = back.browser_state.is_some_and(|s| crate::app::secrets::same_secret(s, back.state));
    if provider_id != provider.id || !same_browser || now() - created > LOGIN_SECONDS {
        return Ok(Err(Refusal::State));
    }
    let Some(pending) = open_sealed(&sealed, &format!("oidc-login:{state_hash}"))
        .and_then(|text| serde_json::from_str::<Pending>(&text).ok())
    else {
        return Ok(Err(Refusal::State));
    };
    if let Some(error) = back.error {
        tracing::info!(provider = %provider.settings.slug, error, "the provider refused the sign-in");
        return Ok(Err(Refusal::Provider));
    }
    let Some(code) = back.code else { return Ok(Err(Refusal::Provider)) };
    let claims = match verified_claims(discovery, provider, base, code, pending).await {
        Ok(claims) => claims,
        Err(e) => {
            tracing::warn!(provider = %provider.settings.slug, "sign-in refused: {e:#}");
            audit::record(db, None, "oidc_refused", Some(&provider.settings.slug), Some(&refusal_detail(&e))).await?;
            return Ok(Err(Refusal::Token));
        }
    };
    let outcome = account_for(db, provider, &claims).await?;
    match outcome {
        Ok((account_id, email)) => {
            store::link(db, provider.id, &claims.subject, account_id).await?;
            Ok(Ok(SignedIn { account_id, email, next, id_token: claims.id_token, provider_id: provider.id }))
        }
        Err(refusal) => {
            let detail = audit::detail("audit.detail.oidc_refused", &[("reason", refusal.key().to_string())]);
            audit::record(db, None, "oidc_refused", Some(&provider.settings.slug), Some(&detail)).await?;
            Ok(Err(refusal))
        }
    }
}

fn refusal_detail(e: &anyhow::Error) -> String {
    let text: String = format!("{e:#}").chars().take(300).collect();
    audit::detail("audit.detail.oidc_token", &[("error", text)])
}

/// What the application needs from a verified ID token.
struct Claims {
    subject: String,
    /// The e-mail, when the provider says it is verified.
    verified_email: Option<String>,
    name: String,
    groups: Vec<String>,
    id_token: String,
}

/// Exchanges the code (with the PKCE verifier) and checks the ID token;
/// a key the cached set does not hold has the keys read again, once.
async fn verified_claims(
    discovery: &Discovery,
    provider: &Provider,
    base: &str,
    code: &str,
    pending: Pending,
) -> Result<Claims> {
    let doc = discovery.document(provider).await?;
    let http = Http::shared()?;
    let tokens = client(provider, doc.clone(), base)?
        .exchange_code(AuthorizationCode::new(code.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&http)
        .await
        .map_err(|e| anyhow::anyhow!("the token request: {e}"))?;
    let id_token = tokens.id_token().context("the provider sent no ID token")?;
    let nonce = Nonce::new(pending.nonce);
    let first = client(provider, doc.clone(), base)?;
    let claims = match id_token.claims(&first.id_token_verifier(), &nonce) {
        Ok(claims) => claims.clone(),
        Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
            let doc = discovery.refresh_keys(provider, doc).await?;
            let again = client(provider, doc, base)?;
            id_token.claims(&again.id_token_verifier(), &nonce).context("the ID token (keys read again)")?.clone()
        }
        Err(e) => return Err(e).context("the ID token"),
    };
    let verified_email = claims
        .email()
        .filter(|_| claims.email_verified() == Some(true) || provider.settings.trust_email)
        .and_then(|e| parse_email(e.as_str()).ok());
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string()).unwrap_or_default();
    let groups = groups_of(claims.additional_claims().rest.get(&provider.settings.groups_claim));
    Ok(Claims {
        subject: claims.subject().as_str().to_string(),
        verified_email,
        name,
        groups,
        id_token: id_token.to_string(),
    })
}

/// A groups claim: a list of names, or one name.
fn groups_of(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).map(str::to_string).collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The account a verified sign-in opens: the linked one, else the one with
/// the verified e-mail, else a new one when the provider creates accounts.
/// The role follows the mapping when a group maps; an account whose groups
/// no longer map is refused when the provider refuses unmapped people.
async fn account_for(db: &Db, provider: &Provider, claims: &Claims) -> Result<Result<(i64, String), Refusal>> {
    let role = role_of(&provider.settings, &claims.groups);
    let mapped = provider.settings.mapping.role_for(&claims.groups);
    let existing = match store::linked_account(db, provider.id, &claims.subject).await? {
        Some(id) => accounts::get(db, id).await?,
        None => match &claims.verified_email {
            Some(email) => accounts::find_for_login(db, email).await?.map(|(a, _)| a),
            None => return Ok(Err(Refusal::Email)),
        },
    };
    let Some(role) = role else { return Ok(Err(Refusal::NoRole)) };
    match existing {
        Some(account) if account.disabled => Ok(Err(Refusal::Disabled)),
        Some(account) => {
            // A break-glass account keeps its role: it is the way in when
            // the provider (or its group mapping) goes wrong.
            let changed = mapped.filter(|r| *r != account.role);
            let break_glass = changed.is_some() && {
                let (_, glass) = crate::app::oidc_admin::password_policy(db).await?;
                glass.iter().any(|g| g.eq_ignore_ascii_case(&account.email))
            };
            if let Some(mapped) = changed.filter(|_| !break_glass) {
                accounts::set_role(db, account.id, mapped).await?;
                accounts::delete_sessions_of(db, account.id).await?;
                let detail = audit::detail("audit.detail.oidc_role", &[("role", mapped.as_str().to_string())]);
                audit::record(db, None, "oidc_role", Some(&account.id.to_string()), Some(&detail)).await?;
            }
            Ok(Ok((account.id, account.email)))
        }
        None if !provider.settings.jit => Ok(Err(Refusal::NoAccount)),
        None => {
            let Some(email) = &claims.verified_email else { return Ok(Err(Refusal::Email)) };
            // No password: this account signs in through its provider.
            let Some(id) = accounts::create(db, email, &claims.name, role, NO_PASSWORD).await? else {
                return Ok(Err(Refusal::NoAccount));
            };
            let detail = audit::detail("audit.detail.oidc_jit", &[("role", role.as_str().to_string())]);
            audit::record(db, Some((id, email)), "oidc_account_created", Some(&provider.settings.slug), Some(&detail))
                .await?;
            Ok(Ok((id, email.clone())))
        }
    }
}

/// The password hash of an account made by a provider: no password
/// verifies against it.
pub const NO_PASSWORD: &str = "!oidc";

/// Where to send the browser after the local session ended, when the
/// provider that opened it offers RP-initiated logout.
pub async fn logout_url(
    db: &Db,
    discovery: &Discovery,
    provider_id: i64,
    id_token: &str,
    after: &str,
) -> Result<Option<String>> {
    let Some(provider) = store::get(db, provider_id).await? else { return Ok(None) };
    let doc = discovery.document(&provider).await?;
    let Some(end) = doc.additional_metadata().end_session_endpoint.clone() else { return Ok(None) };
    let mut request = LogoutRequest::from(end).set_client_id(ClientId::new(provider.settings.client_id.clone()));
    if let Ok(token) = id_token.parse::<openidconnect::IdToken<
        OtherClaims,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >>() {
        request = request.set_id_token_hint(&token);
    }
    if let Ok(after) = PostLogoutRedirectUrl::new(after.to_string()) {
        request = request.set_post_logout_redirect_uri(after);
    }
    Ok(Some(request.http_get_url().to_string()))
}
