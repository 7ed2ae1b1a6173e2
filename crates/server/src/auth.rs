//! Authentication: HTTP Basic for `root`, and JWTs signed with the server's secret (HS256),
//! both user tokens (`preferred_username`) and superuser tokens (`server_id`), as ArangoDB
//! issues and accepts them. Users other than root arrive with the users issue.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// Lifetime of tokens from `/_open/auth`, as ArangoDB's `--server.session-timeout` default.
pub const SESSION_TIMEOUT_S: u64 = 3600;
/// Longest `Authorization` header looked at.
const AUTH_HEADER_BYTES_MAX: usize = 16 * 1024;

pub struct Auth {
    pub enabled: bool,
    root_password: String,
    jwt_secret: Vec<u8>,
}

/// Who a request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    User(String),
    /// A superuser token signed with the cluster's secret (servers talking to servers).
    Superuser,
}

impl Auth {
    pub fn new(enabled: bool, root_password: String, jwt_secret: Vec<u8>) -> Auth {
        Auth { enabled, root_password, jwt_secret }
    }

    /// Checks an `Authorization` header; `None` means not authenticated.
    pub fn check(&self, header: Option<&[u8]>) -> Option<Caller> {
        let header = std::str::from_utf8(header?).ok().filter(|h| h.len() <= AUTH_HEADER_BYTES_MAX)?;
        let (scheme, value) = header.split_once(' ')?;
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => {
                let (user, password) = Self::basic_credentials(header.as_bytes())?;
                self.check_password(&user, &password).then_some(Caller::User(user))
            }
            "bearer" => self.check_token(value.trim()),
            _ => None,
        }
    }

    /// User name and password of a Basic header.
    pub fn basic_credentials(header: &[u8]) -> Option<(String, String)> {
        let header = std::str::from_utf8(header).ok().filter(|h| h.len() <= AUTH_HEADER_BYTES_MAX)?;
        let (scheme, value) = header.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(STANDARD.decode(value.trim()).ok()?).ok()?;
        let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
        Some((user.to_string(), password.to_string()))
    }

    /// Whether `password` is root's. Other users are checked against `_users` by the caller.
    pub fn check_password(&self, user: &str, password: &str) -> bool {
        // Compare in constant time so that timing does not reveal the password.
        user == "root" && constant_time_eq(password.as_bytes(), self.root_password.as_bytes())
    }

    fn check_token(&self, token: &str) -> Option<Caller> {
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        if header.get("alg")?.as_str()? != "HS256" {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(s).ok()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.jwt_secret).ok()?;
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
        if payload.get("iss").and_then(Value::as_str) != Some("arangodb") {
            return None;
        }
        if let Some(exp) = payload.get("exp") {
            if exp.as_f64()? < now_s() as f64 {
                return None;
            }
        }
        if payload.get("server_id").is_some() {
            return Some(Caller::Superuser);
        }
        // The user's existence and access are checked by the caller against `_users`.
        let user = payload.get("preferred_username")?.as_str()?;
        Some(Caller::User(user.to_string()))
    }

    /// A user token as `POST /_open/auth` returns it.
    pub fn issue_token(&self, user: &str) -> String {
        let now = now_s();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = json!({"preferred_username": user, "iss": "arangodb", "iat": now, "exp": now + SESSION_TIMEOUT_S});
        let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.jwt_secret) else { return String::new() };
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{header}.{payload}.{sig}")
    }
}

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= (*x ^ b.get(i).copied().unwrap_or(0)) as usize;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new(true, "pw".into(), b"secret".to_vec())
    }

    #[test]
    fn basic_auth_for_root_only() {
        let a = auth();
        let h = |s: &str| format!("Basic {}", STANDARD.encode(s));
        assert_eq!(a.check(Some(h("root:pw").as_bytes())), Some(Caller::User("root".into())));
        assert_eq!(a.check(Some(h("root:px").as_bytes())), None);
        assert_eq!(a.check(Some(h("bob:pw").as_bytes())), None);
        assert_eq!(a.check(Some(b"Basic !!!")), None);
        assert_eq!(a.check(Some(b"Basic")), None);
        assert_eq!(a.check(None), None);
    }

    #[test]
    fn tokens_round_trip_and_tampering_fails() {
        let a = auth();
        let t = a.issue_token("root");
        assert_eq!(a.check(Some(format!("bearer {t}").as_bytes())), Some(Caller::User("root".into())));
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(r#"{"preferred_username":"root","iss":"arangodb","exp":99999999999}"#);
        assert_eq!(a.check(Some(format!("bearer {}", parts.join(".")).as_bytes())), None);
        let none_alg = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), parts[1]);
        assert_eq!(a.check(Some(format!("bearer {none_alg}").as_bytes())), None);
        let bob = a.issue_token("bob");
        assert_eq!(a.check(Some(format!("bearer {bob}").as_bytes())), Some(Caller::User("bob".into())));
        let other = Auth::new(true, "pw".into(), b"other".to_vec());
        assert_eq!(other.check(Some(format!("bearer {t}").as_bytes())), None);
    }
}
