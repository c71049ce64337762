//! HS256 JSON Web Tokens with expiry and issuer (`jsonwebtoken`): access tokens (`sub` = a
//! user) and playback tokens (`sub` = a video, `aud` = `playback`, `via` = on whose behalf:
//! absent for the owner, `u:<user id>` for a share's recipient, `l:<link id>` for a share
//! link). An access token has no audience and its validation refuses any, so neither kind
//! passes for the other. Opaque secrets (refresh tokens) are 256 random bits from the
//! operating system, in hex, stored as their SHA-256.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anb_domain::ports::{AccessToken, PlaybackClaims, PlaybackToken, TokenError, TokenIssuer};
use anb_domain::session::{MintedSecret, SecretDigest};
use anb_domain::sharing::Viewer;
use anb_domain::{UserId, VideoId};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Shortest secret accepted, in bytes (HS256 wants at least its 256-bit output).
pub const MIN_SECRET_LEN: usize = 32;

/// Token settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtConfig {
    /// `iss` claim written and required.
    pub issuer: String,
    /// Lifetime of an access token (the login's `expires_in`; default 15 minutes: a session
    /// lives on through refresh tokens).
    pub ttl: Duration,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            issuer: "anb-showcase".into(),
            ttl: Duration::from_secs(15 * 60),
        }
    }
}

/// The audience of playback tokens.
const PLAYBACK: &str = "playback";

/// Issues and verifies HS256 tokens: access tokens whose `sub` is the user id, playback tokens
/// whose `sub` is the video id.
pub struct JwtIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    playback_validation: Validation,
    config: JwtConfig,
}

/// Why a JWT secret was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the JWT secret must be at least {MIN_SECRET_LEN} bytes (got {0})")]
pub struct WeakSecret(pub usize);

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    iat: u64,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    via: Option<String>,
}

/// A viewer as the `via` claim writes it.
fn via_claim(viewer: Viewer) -> Option<String> {
    match viewer {
        Viewer::Owner => None,
        Viewer::Recipient(user) => Some(format!("u:{user}")),
        Viewer::Link(link) => Some(format!("l:{link}")),
    }
}

/// The viewer a `via` claim names.
fn viewer_of(via: Option<&str>) -> Option<Viewer> {
    match via {
        None => Some(Viewer::Owner),
        Some(via) => match via.split_once(':')? {
            ("u", id) => id.parse().ok().map(Viewer::Recipient),
            ("l", id) => id.parse().ok().map(Viewer::Link),
            _ => None,
        },
    }
}

/// The audience of a note for `purpose` (never `playback`, never absent).
fn note_audience(purpose: &str) -> String {
    format!("note:{purpose}")
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl JwtIssuer {
    /// An issuer signing with `secret`.
    ///
    /// # Errors
    /// [`WeakSecret`] when `secret` is shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &[u8], config: JwtConfig) -> Result<Self, WeakSecret> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(WeakSecret(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[config.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        let mut playback_validation = validation.clone();
        playback_validation.set_audience(&[PLAYBACK]);
        playback_validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            playback_validation,
            config,
        })
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl TokenIssuer for JwtIssuer {
    fn issue(&self, user: UserId) -> anyhow::Result<AccessToken> {
        let iat = unix_now();
        let claims = Claims {
            sub: user.to_string(),
            iss: self.config.issuer.clone(),
            iat,
            exp: iat + self.config.ttl.as_secs(),
            aud: None,
            via: None,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(AccessToken {
            token,
            expires_in: self.config.ttl.as_secs(),
        })
    }

    fn verify(&self, token: &str) -> Result<UserId, TokenError> {
        self.decode(token, &self.validation)?
            .sub
            .parse()
            .map_err(|_| TokenError::Invalid)
    }

    fn issue_playback(
        &self,
        video: VideoId,
        viewer: Viewer,
        ttl: Duration,
    ) -> anyhow::Result<PlaybackToken> {
        let iat = unix_now();
        let exp = iat + ttl.as_secs().max(1);
        let claims = Claims {
            sub: video.to_string(),
            iss: self.config.issuer.clone(),
            iat,
            exp,
            aud: Some(PLAYBACK.to_owned()),
            via: via_claim(viewer),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        let expires_at = chrono::DateTime::from_timestamp(i64::try_from(exp)?, 0)
            .ok_or_else(|| anyhow::anyhow!("an expiry out of range"))?;
        Ok(PlaybackToken { token, expires_at })
    }

    fn verify_playback(&self, token: &str) -> Result<PlaybackClaims, TokenError> {
        let claims = self.decode(token, &self.playback_validation)?;
        let video = claims.sub.parse().map_err(|_| TokenError::Invalid)?;
        let viewer = viewer_of(claims.via.as_deref()).ok_or(TokenError::Invalid)?;
        let expires_at = i64::try_from(claims.exp)
            .ok()
            .and_then(|exp| chrono::DateTime::from_timestamp(exp, 0))
            .ok_or(TokenError::Invalid)?;
        Ok(PlaybackClaims {
            video,
            viewer,
            expires_at,
        })
    }

    fn mint_secret(&self) -> MintedSecret {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        let secret = hex(&bytes);
        MintedSecret {
            digest: self.digest(&secret),
            secret,
        }
    }

    fn digest(&self, secret: &str) -> SecretDigest {
        SecretDigest::new(hex(&Sha256::digest(secret.as_bytes())))
    }

    fn sign_note(&self, purpose: &str, payload: &str, ttl: Duration) -> anyhow::Result<String> {
        let iat = unix_now();
        let claims = Claims {
            sub: payload.to_owned(),
            iss: self.config.issuer.clone(),
            iat,
            exp: iat + ttl.as_secs().max(1),
            aud: Some(note_audience(purpose)),
            via: None,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    fn open_note(&self, purpose: &str, note: &str) -> Result<String, TokenError> {
        let mut validation = self.validation.clone();
        validation.set_audience(&[note_audience(purpose)]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        Ok(self.decode(note, &validation)?.sub)
    }
}

impl JwtIssuer {
    /// The claims of a token valid under `validation`.
    fn decode(&self, token: &str, validation: &Validation) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, validation).map_err(
            |e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            },
        )?;
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn issuer() -> JwtIssuer {
        JwtIssuer::new(SECRET, JwtConfig::default()).unwrap()
    }

    fn sign(claims: &Claims, secret: &[u8]) -> String {
        jsonwebtoken::encode(
            &Header::default(),
            claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn an_issued_token_names_its_user_for_a_quarter_of_an_hour() {
        let user = UserId::new();
        let token = issuer().issue(user).unwrap();
        assert_eq!(token.expires_in, 900);
        assert_eq!(issuer().verify(&token.token), Ok(user));
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let now = unix_now();
        let claims = Claims {
            sub: UserId::new().to_string(),
            iss: "anb-showcase".into(),
            iat: now - 7200,
            exp: now - 10,
            aud: None,
            via: None,
        };
        assert_eq!(
            issuer().verify(&sign(&claims, SECRET)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn tampered_foreign_and_malformed_tokens_are_invalid() {
        let token = issuer().issue(UserId::new()).unwrap().token;
        let mut tampered = token.clone().into_bytes();
        let mid = tampered.len() / 2;
        tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();

        let other_key = JwtIssuer::new(b"another-secret-another-secret-xx", JwtConfig::default())
            .unwrap()
            .issue(UserId::new())
            .unwrap()
            .token;
        let other_issuer = sign(
            &Claims {
                sub: UserId::new().to_string(),
                iss: "someone-else".into(),
                iat: unix_now(),
                exp: unix_now() + 60,
                aud: None,
                via: None,
            },
            SECRET,
        );
        for bad in [tampered.as_str(), &other_key, &other_issuer, "", "a.b.c"] {
            assert_eq!(issuer().verify(bad), Err(TokenError::Invalid), "{bad}");
        }
    }

    #[test]
    fn a_playback_token_names_its_video_until_it_expires() {
        let video = VideoId::new();
        let before = unix_now();
        let grant = issuer()
            .issue_playback(video, Viewer::Owner, Duration::from_secs(600))
            .unwrap();
        let expires = u64::try_from(grant.expires_at.timestamp()).unwrap();
        assert!((before + 600..=unix_now() + 600).contains(&expires));
        assert_eq!(
            issuer().verify_playback(&grant.token),
            Ok(PlaybackClaims {
                video,
                viewer: Viewer::Owner,
                expires_at: grant.expires_at
            })
        );
        assert!(
            grant
                .token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "fits in a URL path as it is"
        );
        let expired = sign(
            &Claims {
                sub: video.to_string(),
                iss: "anb-showcase".into(),
                iat: before - 7200,
                exp: before - 10,
                aud: Some(PLAYBACK.into()),
                via: None,
            },
            SECRET,
        );
        assert_eq!(issuer().verify_playback(&expired), Err(TokenError::Expired));
    }

    #[test]
    fn access_and_playback_tokens_do_not_pass_for_each_other() {
        let access = issuer().issue(UserId::new()).unwrap().token;
        assert_eq!(issuer().verify_playback(&access), Err(TokenError::Invalid));
        let playback = issuer()
            .issue_playback(VideoId::new(), Viewer::Owner, Duration::from_secs(60))
            .unwrap()
            .token;
        assert_eq!(issuer().verify(&playback), Err(TokenError::Invalid));
        let mut altered = playback.into_bytes();
        let mid = altered.len() / 2;
        altered[mid] = if altered[mid] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(issuer().verify_playback(&altered), Err(TokenError::Invalid));
    }

    #[test]
    fn a_playback_token_names_its_viewer_and_a_forged_viewer_is_invalid() {
        let video = VideoId::new();
        for viewer in [
            Viewer::Owner,
            Viewer::Recipient(UserId::new()),
            Viewer::Link(anb_domain::ShareLinkId::new()),
        ] {
            let grant = issuer()
                .issue_playback(video, viewer, Duration::from_secs(60))
                .unwrap();
            assert_eq!(
                issuer().verify_playback(&grant.token).map(|c| c.viewer),
                Ok(viewer)
            );
        }
        for via in ["x:1", "u:not-a-uuid", "l:", "owner"] {
            let forged = sign(
                &Claims {
                    sub: video.to_string(),
                    iss: "anb-showcase".into(),
                    iat: unix_now(),
                    exp: unix_now() + 60,
                    aud: Some(PLAYBACK.into()),
                    via: Some(via.into()),
                },
                SECRET,
            );
            assert_eq!(
                issuer().verify_playback(&forged),
                Err(TokenError::Invalid),
                "{via}"
            );
        }
    }

    #[test]
    fn minted_secrets_are_long_random_and_stored_only_as_their_digest() {
        let a = issuer().mint_secret();
        let b = issuer().mint_secret();
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), 64, "256 bits in hex");
        assert!(a.secret.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(issuer().digest(&a.secret), a.digest);
        assert_ne!(a.digest.as_str(), a.secret);
        assert_ne!(issuer().digest(&b.secret), a.digest);
    }

    #[test]
    fn a_note_opens_only_for_its_purpose_and_no_other_token_passes_for_one() {
        let note = issuer()
            .sign_note("oidc-login", "{\"state\":\"s\"}", Duration::from_secs(60))
            .unwrap();
        assert_eq!(
            issuer().open_note("oidc-login", &note),
            Ok("{\"state\":\"s\"}".to_owned())
        );
        assert_eq!(
            issuer().open_note("oidc-signup", &note),
            Err(TokenError::Invalid)
        );
        assert_eq!(issuer().verify(&note), Err(TokenError::Invalid));
        assert_eq!(issuer().verify_playback(&note), Err(TokenError::Invalid));
        let access = issuer().issue(UserId::new()).unwrap().token;
        let playback = issuer()
            .issue_playback(VideoId::new(), Viewer::Owner, Duration::from_secs(60))
            .unwrap()
            .token;
        for other in [access, playback] {
            assert_eq!(
                issuer().open_note("oidc-login", &other),
                Err(TokenError::Invalid)
            );
        }
        let expired = sign(
            &Claims {
                sub: "x".into(),
                iss: "anb-showcase".into(),
                iat: unix_now() - 100,
                exp: unix_now() - 10,
                aud: Some("note:oidc-login".into()),
                via: None,
            },
            SECRET,
        );
        assert_eq!(
            issuer().open_note("oidc-login", &expired),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            JwtIssuer::new(b"short", JwtConfig::default()).err(),
            Some(WeakSecret(5))
        );
    }
}
