//! HS256 JSON Web Tokens with expiry and issuer (`jsonwebtoken`): access tokens (`sub` = a
//! user) and playback tokens (`sub` = a video, `aud` = `playback`). An access token has no
//! audience and its validation refuses any, so neither kind passes for the other.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anb_domain::ports::{AccessToken, PlaybackToken, TokenError, TokenIssuer};
use anb_domain::{UserId, VideoId};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Shortest secret accepted, in bytes (HS256 wants at least its 256-bit output).
pub const MIN_SECRET_LEN: usize = 32;

/// Token settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtConfig {
    /// `iss` claim written and required.
    pub issuer: String,
    /// Lifetime of a token (the contract's `expires_in`: 3600 s).
    pub ttl: Duration,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            issuer: "anb-showcase".into(),
            ttl: Duration::from_secs(3600),
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

    fn issue_playback(&self, video: VideoId, ttl: Duration) -> anyhow::Result<PlaybackToken> {
        let iat = unix_now();
        let exp = iat + ttl.as_secs().max(1);
        let claims = Claims {
            sub: video.to_string(),
            iss: self.config.issuer.clone(),
            iat,
            exp,
            aud: Some(PLAYBACK.to_owned()),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        let expires_at = chrono::DateTime::from_timestamp(i64::try_from(exp)?, 0)
            .ok_or_else(|| anyhow::anyhow!("an expiry out of range"))?;
        Ok(PlaybackToken { token, expires_at })
    }

    fn verify_playback(
        &self,
        token: &str,
    ) -> Result<(VideoId, chrono::DateTime<chrono::Utc>), TokenError> {
        let claims = self.decode(token, &self.playback_validation)?;
        let video = claims.sub.parse().map_err(|_| TokenError::Invalid)?;
        let expires_at = i64::try_from(claims.exp)
            .ok()
            .and_then(|exp| chrono::DateTime::from_timestamp(exp, 0))
            .ok_or(TokenError::Invalid)?;
        Ok((video, expires_at))
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
    fn an_issued_token_names_its_user_for_an_hour() {
        let user = UserId::new();
        let token = issuer().issue(user).unwrap();
        assert_eq!(token.expires_in, 3600);
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
            .issue_playback(video, Duration::from_secs(600))
            .unwrap();
        let expires = u64::try_from(grant.expires_at.timestamp()).unwrap();
        assert!((before + 600..=unix_now() + 600).contains(&expires));
        assert_eq!(
            issuer().verify_playback(&grant.token),
            Ok((video, grant.expires_at))
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
            .issue_playback(VideoId::new(), Duration::from_secs(60))
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
    fn short_secrets_are_refused() {
        assert_eq!(
            JwtIssuer::new(b"short", JwtConfig::default()).err(),
            Some(WeakSecret(5))
        );
    }
}
