//! OpenID Connect providers as an administrator configures them, and the
//! rule that turns a person's groups into a role. Pure: no I/O.

use super::account::Role;

/// A provider's settings as entered (the secret aside: it is sealed or
/// named by an environment variable, and never read back).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The provider's name in addresses (`/auth/oidc/{slug}/start`).
    pub slug: String,
    pub display_name: String,
    pub issuer_url: String,
    pub client_id: String,
    /// Space-separated; always includes `openid`.
    pub scopes: String,
    /// Create an account at the first sign-in.
    pub jit: bool,
    /// Take the e-mail claim as verified without `email_verified` (Entra
    /// ID and Feishu send none): only for a provider that owns the domain.
    pub trust_email: bool,
    /// The ID token claim that lists groups or roles.
    pub groups_claim: String,
    pub mapping: RoleMapping,
    /// The role when no group maps; `None` refuses the sign-in.
    pub default_role: Option<Role>,
}

/// Lines `group = role`, in order: the first line whose group the person
/// is in gives the role.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleMapping(pub Vec<(String, Role)>);

impl RoleMapping {
    /// Reads `group = role` lines (blank lines skipped); an error names the
    /// line that is not one.
    pub fn parse(text: &str) -> Result<RoleMapping, String> {
        let mut lines = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (group, role) =
                line.rsplit_once('=').ok_or_else(|| format!("line {}: expected `group = role`", n + 1))?;
            let role = Role::parse(role.trim()).ok_or_else(|| {
                format!("line {}: `{}` is not a role (admin, researcher, analyst, manager)", n + 1, role.trim())
            })?;
            let group = group.trim();
            if group.is_empty() {
                return Err(format!("line {}: the group is empty", n + 1));
            }
            lines.push((group.to_string(), role));
        }
        Ok(RoleMapping(lines))
    }

    /// The mapping as lines, as `parse` reads them.
    pub fn to_text(&self) -> String {
        self.0.iter().map(|(g, r)| format!("{g} = {r}")).collect::<Vec<_>>().join("\n")
    }

    /// The role of the first line whose group is among `groups`.
    pub fn role_for(&self, groups: &[String]) -> Option<Role> {
        self.0.iter().find(|(g, _)| groups.iter().any(|have| have == g)).map(|(_, r)| *r)
    }
}

/// What a sign-in gets: a role, or a refusal because no group maps and the
/// provider refuses unmapped people.
pub fn role_of(settings: &ProviderSettings, groups: &[String]) -> Option<Role> {
    settings.mapping.role_for(groups).or(settings.default_role)
}

/// Why provider settings were refused: a catalog key.
pub type Invalid = &'static str;

impl ProviderSettings {
    /// Checks and normalises what an administrator entered.
    pub fn check(mut self) -> Result<ProviderSettings, Invalid> {
        self.slug = self.slug.trim().to_ascii_lowercase();
        let slug_ok = (1..=40).contains(&self.slug.len())
            && self.slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug_ok {
            return Err("oidc.invalid.slug");
        }
        self.display_name = self.display_name.trim().to_string();
        if self.display_name.is_empty() || self.display_name.chars().count() > 80 {
            return Err("oidc.invalid.display_name");
        }
        self.issuer_url = self.issuer_url.trim().trim_end_matches('/').to_string();
        // Plain HTTP only to this machine (a provider run for a test): the
        // discovery document and keys must not travel where they can be
        // changed on the way.
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|host| {
            self.issuer_url.strip_prefix(host).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        });
        let scheme_ok = self.issuer_url.starts_with("https://") || loopback;
        if !scheme_ok || self.issuer_url.contains(char::is_whitespace) || self.issuer_url.len() > 500 {
            return Err("oidc.invalid.issuer");
        }
        self.client_id = self.client_id.trim().to_string();
        if self.client_id.is_empty() || self.client_id.len() > 300 {
            return Err("oidc.invalid.client_id");
        }
        self.scopes = normal_scopes(&self.scopes);
        self.groups_claim = self.groups_claim.trim().to_string();
        if self.groups_claim.is_empty() {
            self.groups_claim = "groups".into();
        }
        Ok(self)
    }

    pub fn scope_list(&self) -> impl Iterator<Item = &str> {
        self.scopes.split_whitespace().filter(|s| *s != "openid")
    }
}

/// Scopes separated by spaces or commas, `openid` first and once.
pub fn normal_scopes(text: &str) -> String {
    let mut scopes = vec!["openid".to_string()];
    for s in text.split([' ', ',', '\n', '\t']).map(str::trim).filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|have| have == s) {
            scopes.push(s.to_string());
        }
    }
    scopes.join(" ")
}

/// The name of an environment variable holding a client secret: letters,
/// digits and underscores, not starting with a digit.
pub fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What a provider's sealed secret is bound to.
pub fn secret_context(slug: &str) -> String {
    format!("oidc-client-secret:{slug}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ProviderSettings {
        ProviderSettings {
            slug: " Corp-SSO ".into(),
            display_name: " Corp ".into(),
            issuer_url: "https://login.example/tenant/".into(),
            client_id: " abc ".into(),
            scopes: "email, profile openid email".into(),
            jit: true,
            trust_email: false,
            groups_claim: " ".into(),
            mapping: RoleMapping::default(),
            default_role: Some(Role::Manager),
        }
    }

    #[test]
    fn settings_are_normalised_and_checked() {
        let s = settings().check().unwrap();
        assert_eq!(s.slug, "corp-sso");
        assert_eq!(s.issuer_url, "https://login.example/tenant");
        assert_eq!(s.scopes, "openid email profile");
        assert_eq!(s.groups_claim, "groups");
        assert_eq!(ProviderSettings { slug: "a/b".into(), ..settings() }.check(), Err("oidc.invalid.slug"));
        for bad in ["ftp://x", "http://login.example", "http://127.0.0.1.evil.example", "http://localhost@evil.example"]
        {
            assert_eq!(
                ProviderSettings { issuer_url: bad.into(), ..settings() }.check(),
                Err("oidc.invalid.issuer"),
                "{bad}"
            );
        }
        let local = ProviderSettings { issuer_url: "http://127.0.0.1:4000".into(), ..settings() };
        assert!(local.check().is_ok());
        assert_eq!(ProviderSettings { client_id: " ".into(), ..settings() }.check(), Err("oidc.invalid.client_id"));
    }

    #[test]
    fn the_first_mapped_group_gives_the_role_else_the_default_or_none() {
        let mapping = RoleMapping::parse("uc-admins = admin\n\n uc-hr = analyst \nuc-all=manager").unwrap();
        assert_eq!(mapping.to_text(), "uc-admins = admin\nuc-hr = analyst\nuc-all = manager");
        let s = ProviderSettings { mapping, default_role: None, ..settings() };
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(role_of(&s, &g(&["uc-all", "uc-hr"])), Some(Role::Analyst));
        assert_eq!(role_of(&s, &g(&["other"])), None);
        let least = ProviderSettings { default_role: Some(Role::Manager), ..s };
        assert_eq!(role_of(&least, &[]), Some(Role::Manager));
        assert!(RoleMapping::parse("uc = root").is_err());
        assert!(RoleMapping::parse("no equals").is_err());
    }

    #[test]
    fn environment_names() {
        assert!(is_env_name("OIDC_SECRET_1"));
        for bad in ["", "1X", "A-B", "A B"] {
            assert!(!is_env_name(bad), "{bad}");
        }
    }
}
