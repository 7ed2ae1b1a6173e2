//! Credentials: HTTP Basic, and JWTs signed with the server's secret (HS256), both user
//! tokens (`preferred_username`, from `/_open/auth`) and superuser tokens (`server_id`), as
//! ArangoDB issues and accepts them. Secrets come from `--server.jwt-secret-keyfile`, or
//! from every file in `--server.jwt-secret-folder` (rotation: the first file by name signs,
//! all are accepted), or are made up at start; `/_admin/server/jwt` reloads them.

use std::path::PathBuf;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use parking_lot::RwLock;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Lifetime of tokens from `/_open/auth`, as ArangoDB's `--server.session-timeout` default.
pub const SESSION_TIMEOUT_S: u64 = 3600;
/// Longest `Authorization` header looked at.
const AUTH_HEADER_BYTES_MAX: usize = 16 * 1024;
/// Largest secret file read.
const SECRET_BYTES_MAX: u64 = 64 * 1024;

/// Where the JWT secrets come from.
#[derive(Clone, Debug)]
pub enum SecretSource {
    Generated,
    File(PathBuf),
    Folder(PathBuf),
}

/// What an `Authorization` header claims. Basic passwords are checked by the caller against
/// the users; tokens are checked here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    Basic { user: String, password: String },
    /// A valid user token for this user (whose existence the caller checks).
    Token(String),
    /// A valid superuser token (servers talking to servers).
    Superuser,
    /// Present but malformed, badly signed or expired.
    Invalid,
}

pub struct Auth {
    pub enabled: bool,
    /// Active secret first.
    secrets: RwLock<Vec<Vec<u8>>>,
    source: SecretSource,
}

fn read_secrets(source: &SecretSource) -> Result<Vec<Vec<u8>>, String> {
    let read = |p: &PathBuf| -> Result<Vec<u8>, String> {
        let meta = std::fs::metadata(p).map_err(|e| format!("cannot read JWT secret {}: {e}", p.display()))?;
        if meta.len() > SECRET_BYTES_MAX {
            return Err(format!("JWT secret {} is larger than {SECRET_BYTES_MAX} bytes", p.display()));
        }
        let s = std::fs::read(p).map_err(|e| format!("cannot read JWT secret {}: {e}", p.display()))?;
        let s = s.trim_ascii().to_vec();
        if s.is_empty() {
            return Err(format!("JWT secret {} is empty", p.display()));
        }
        Ok(s)
    };
    match source {
        SecretSource::Generated => {
            use rand::RngCore;
            let mut s = vec![0u8; 32];
            rand::rng().fill_bytes(&mut s);
            Ok(vec![s])
        }
        SecretSource::File(p) => Ok(vec![read(p)?]),
        SecretSource::Folder(dir) => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| format!("cannot read --server.jwt-secret-folder {}: {e}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(format!("--server.jwt-secret-folder {} holds no secret", dir.display()));
            }
            files.iter().map(read).collect()
        }
    }
}

impl Auth {
    pub fn new(enabled: bool, source: SecretSource) -> Result<Auth, String> {
        Ok(Auth { enabled, secrets: RwLock::new(read_secrets(&source)?), source })
    }

    /// Reads the secrets again (`POST /_admin/server/jwt`). A generated secret stays.
    pub fn reload(&self) -> Result<(), String> {
        if !matches!(self.source, SecretSource::Generated) {
            *self.secrets.write() = read_secrets(&self.source)?;
        }
        Ok(())
    }

    /// `{"active":{"sha256":…},"passive":[…]}`: digests of the secrets, never the secrets.
    pub fn secrets_info(&self) -> Value {
        let secrets = self.secrets.read();
        let digest = |s: &Vec<u8>| json!({"sha256": Sha256::digest(s).iter().map(|b| format!("{b:02x}")).collect::<String>()});
        json!({"active": secrets.first().map(digest), "passive": secrets.iter().skip(1).map(digest).collect::<Vec<_>>()})
    }

    /// Reads an `Authorization` header; `None` if there is none.
    pub fn credentials(&self, header: Option<&[u8]>) -> Option<Credentials> {
        let header = header?;
        let Some(text) = std::str::from_utf8(header).ok().filter(|h| h.len() <= AUTH_HEADER_BYTES_MAX) else {
            return Some(Credentials::Invalid);
        };
        let (scheme, value) = text.split_once(' ').unwrap_or((text, ""));
        Some(match scheme.to_ascii_lowercase().as_str() {
            "basic" => basic(value.trim()).unwrap_or(Credentials::Invalid),
            "bearer" => self.check_token(value.trim()).unwrap_or(Credentials::Invalid),
            _ => Credentials::Invalid,
        })
    }

    fn check_token(&self, token: &str) -> Option<Credentials> {
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
        let signed_by_us = self.secrets.read().iter().any(|secret| {
            Hmac::<Sha256>::new_from_slice(secret).is_ok_and(|mut mac| {
                mac.update(h.as_bytes());
                mac.update(b".");
                mac.update(p.as_bytes());
                mac.verify_slice(&signature).is_ok()
            })
        });
        if !signed_by_us {
            return None;
        }
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
            return Some(Credentials::Superuser);
        }
        Some(Credentials::Token(payload.get("preferred_username")?.as_str()?.to_string()))
    }

    /// A user token as `POST /_open/auth` returns it, signed with the active secret.
    pub fn issue_token(&self, user: &str) -> String {
        let now = now_s();
        self.sign(&json!({"preferred_username": user, "iss": "arangodb", "iat": now, "exp": now + SESSION_TIMEOUT_S}))
    }

    /// A superuser token, as servers of one cluster send each other.
    pub fn issue_superuser_token(&self) -> String {
        self.sign(&json!({"iss": "arangodb", "server_id": "rango", "iat": now_s()}))
    }

    fn sign(&self, payload: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
        let secrets = self.secrets.read();
        let Some(Ok(mut mac)) = secrets.first().map(|s| Hmac::<Sha256>::new_from_slice(s)) else { return String::new() };
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{header}.{payload}.{sig}")
    }
}

fn basic(value: &str) -> Option<Credentials> {
    let decoded = String::from_utf8(STANDARD.decode(value).ok()?).ok()?;
    let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
    // An empty user name is only meaningful with an access token as the password.
    if user.is_empty() && password.is_empty() {
        return None;
    }
    Some(Credentials::Basic { user: user.to_string(), password: password.to_string() })
}

fn now_s() -> u64 {
    crate::unix_now().as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_with(secret: &[u8]) -> Auth {
        let dir = tempfile_free_dir();
        let path = dir.join("secret");
        std::fs::write(&path, secret).unwrap();
        Auth::new(true, SecretSource::File(path)).unwrap()
    }

    fn tempfile_free_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("rango-auth-test-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn basic_headers_are_parsed() {
        let a = auth_with(b"secret");
        let h = format!("Basic {}", STANDARD.encode("root:pw"));
        assert_eq!(a.credentials(Some(h.as_bytes())), Some(Credentials::Basic { user: "root".into(), password: "pw".into() }));
        let empty = format!("Basic {}", STANDARD.encode(":"));
        for bad in ["Basic !!!", "Basic", "Digest x", "Bearer", "Bearer a.b.c", empty.as_str()] {
            assert_eq!(a.credentials(Some(bad.as_bytes())), Some(Credentials::Invalid), "{bad}");
        }
        assert_eq!(a.credentials(Some(&[0xff, 0xfe])), Some(Credentials::Invalid));
        assert_eq!(a.credentials(None), None);
    }

    #[test]
    fn tokens_round_trip_and_tampering_fails() {
        let a = auth_with(b"secret");
        let t = a.issue_token("bob");
        assert_eq!(a.credentials(Some(format!("bearer {t}").as_bytes())), Some(Credentials::Token("bob".into())));
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(r#"{"preferred_username":"root","iss":"arangodb","exp":99999999999}"#);
        assert_eq!(a.credentials(Some(format!("bearer {}", parts.join(".")).as_bytes())), Some(Credentials::Invalid));
        let none_alg = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), parts[1]);
        assert_eq!(a.credentials(Some(format!("bearer {none_alg}").as_bytes())), Some(Credentials::Invalid));
        let other = auth_with(b"other");
        assert_eq!(other.credentials(Some(format!("bearer {t}").as_bytes())), Some(Credentials::Invalid));
    }

    #[test]
    fn secret_folders_rotate() {
        let dir = tempfile_free_dir();
        std::fs::write(dir.join("a-new"), b"new").unwrap();
        std::fs::write(dir.join("b-old"), b"old").unwrap();
        let a = Auth::new(true, SecretSource::Folder(dir.clone())).unwrap();
        let old = auth_with(b"old").issue_token("u");
        assert_eq!(a.credentials(Some(format!("bearer {old}").as_bytes())), Some(Credentials::Token("u".into())));
        assert_eq!(a.secrets_info()["passive"].as_array().unwrap().len(), 1);
        std::fs::remove_file(dir.join("b-old")).unwrap();
        a.reload().unwrap();
        assert_eq!(a.credentials(Some(format!("bearer {old}").as_bytes())), Some(Credentials::Invalid));
    }
}
