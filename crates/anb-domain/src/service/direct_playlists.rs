//! A rung's playlist whose segments come straight from the blob store: where the store signs
//! its own URLs (S3 presigned GETs), an owner's signed playlist names each init and media
//! segment by such a URL, so the bytes of the video never pass through the service. The
//! playlist itself stays behind the playback token (it is small, and its URLs expire with the
//! token). Revocable viewers (shares, share links) never get these: a presigned URL cannot be
//! taken back.

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::{ByteRange, MediaDownload, MediaError, Showcase};
use crate::blob::{BlobKey, BlobMeta, BlobObject, DownloadUrl};
use crate::media::{is_segment_name, media_type};

/// The largest playlist rewritten (a rung of the longest clip is a few kilobytes); a larger
/// one is served as stored, its segments through the service.
const MAX_PLAYLIST_BYTES: usize = 1 << 20;

/// The URIs a media playlist names, in order: every URI line and every `EXT-X-MAP` URI.
fn uris(playlist: &str) -> impl Iterator<Item = &str> {
    playlist.lines().filter_map(|line| {
        let line = line.trim_end_matches('\r');
        match line.strip_prefix('#') {
            Some(tag) => map_uri(tag).map(|(_, uri, _)| uri),
            None => (!line.trim().is_empty()).then_some(line.trim()),
        }
    })
}

/// `EXT-X-MAP:…URI="u"…` split around `u`: what comes before, `u`, what comes after.
fn map_uri(tag: &str) -> Option<(&str, &str, &str)> {
    let attributes = tag.strip_prefix("EXT-X-MAP:")?;
    let start = attributes.find("URI=\"")? + "URI=\"".len();
    let length = attributes[start..].find('"')?;
    Some((
        &attributes[..start],
        &attributes[start..start + length],
        &attributes[start + length..],
    ))
}

/// `playlist` with each URI that `urls` has a replacement for replaced (lines end in `\n`).
fn replace_uris(playlist: &str, urls: &HashMap<&str, String>) -> String {
    let mut out = String::with_capacity(playlist.len() * 4);
    for line in playlist.lines() {
        let line = line.trim_end_matches('\r');
        match line.strip_prefix('#') {
            Some(tag) => match map_uri(tag).and_then(|(b, uri, a)| Some((b, urls.get(uri)?, a))) {
                Some((before, url, after)) => {
                    out.push_str("#EXT-X-MAP:");
                    out.push_str(before);
                    out.push_str(url);
                    out.push_str(after);
                }
                None => out.push_str(line),
            },
            None => match urls.get(line.trim()) {
                Some(url) => out.push_str(url),
                None => out.push_str(line),
            },
        }
        out.push('\n');
    }
    out
}

impl Showcase {
    /// The rung playlist at `key` with its segments at presigned URLs valid `until`, or `None`
    /// when the store does not sign URLs (or the playlist is too large to rewrite): then it is
    /// served as stored. `range` applies to the rewritten text.
    ///
    /// # Errors
    /// [`MediaError::NotFound`] when the playlist is missing, [`MediaError::InvalidRange`],
    /// [`MediaError::Unexpected`] when the store fails.
    pub(super) async fn open_direct_playlist(
        &self,
        key: &BlobKey,
        until: DateTime<Utc>,
        range: Option<ByteRange>,
    ) -> Result<Option<MediaDownload>, MediaError> {
        let ttl = (until - self.ports.clock.now())
            .to_std()
            .map_err(|_| MediaError::SignatureExpired)?;
        let sign = |key: BlobKey| async move {
            self.ports.blobs.download_url(&key, ttl).await.map_err(|e| {
                MediaError::Unexpected(anyhow::Error::new(e).context("signing a segment URL"))
            })
        };
        if sign(key.clone()).await? == DownloadUrl::ServedByApi {
            return Ok(None);
        }
        let stored = self
            .open_blob(key, media_type(key.as_str()), None)
            .await?
            .object;
        let last_modified = stored.meta.last_modified;
        let Some(text) = read_text(stored).await? else {
            return Ok(None);
        };
        let mut urls = HashMap::new();
        for uri in uris(&text).filter(|uri| is_segment_name(uri)) {
            let segment = key.sibling(uri).map_err(|e| {
                MediaError::Unexpected(anyhow::Error::new(e).context("a segment's key"))
            })?;
            if let DownloadUrl::Presigned { url, .. } = sign(segment).await? {
                urls.insert(uri, url);
            }
        }
        let rewritten = Bytes::from(replace_uris(&text, &urls));
        let size = rewritten.len() as u64;
        let range = match range {
            None => 0..size,
            Some(range) => range
                .resolve(size)
                .ok_or(MediaError::InvalidRange { size })?,
        };
        let body = rewritten.slice(range.start as usize..range.end as usize);
        Ok(Some(MediaDownload {
            object: BlobObject {
                meta: BlobMeta {
                    size,
                    last_modified,
                },
                range,
                body: Box::pin(futures::stream::once(async move { Ok(body) })),
            },
            content_type: media_type(key.as_str()),
        }))
    }
}

/// The whole object as UTF-8 text, or `None` when it is larger than [`MAX_PLAYLIST_BYTES`] or
/// not text.
async fn read_text(object: BlobObject) -> Result<Option<String>, MediaError> {
    if object.meta.size > MAX_PLAYLIST_BYTES as u64 {
        return Ok(None);
    }
    let mut body = object.body;
    let mut bytes = Vec::with_capacity(object.meta.size as usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            MediaError::Unexpected(anyhow::Error::new(e).context("reading a playlist"))
        })?;
        if bytes.len() + chunk.len() > MAX_PLAYLIST_BYTES {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8(bytes).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNG: &str = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n\
        #EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2.000000,\nseg_00000.m4s\n\
        #EXTINF:1.500000,\nseg_00001.m4s\n#EXT-X-ENDLIST\n";

    #[test]
    fn the_uris_of_a_rung_are_its_init_and_media_segments_in_order() {
        let found: Vec<&str> = uris(RUNG).collect();
        assert_eq!(found, ["init.mp4", "seg_00000.m4s", "seg_00001.m4s"]);
        let crlf = RUNG.replace('\n', "\r\n");
        assert_eq!(uris(&crlf).collect::<Vec<_>>(), found);
    }

    #[test]
    fn each_segment_is_replaced_by_its_url_and_every_tag_is_kept() {
        let urls = HashMap::from([
            (
                "init.mp4",
                "https://s3.test/b/init.mp4?X-Amz-Signature=1".to_owned(),
            ),
            (
                "seg_00000.m4s",
                "https://s3.test/b/seg_00000.m4s?X-Amz-Signature=2".to_owned(),
            ),
        ]);
        let out = replace_uris(RUNG, &urls);
        assert_eq!(
            out,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n\
             #EXT-X-MAP:URI=\"https://s3.test/b/init.mp4?X-Amz-Signature=1\"\n\
             #EXTINF:2.000000,\nhttps://s3.test/b/seg_00000.m4s?X-Amz-Signature=2\n\
             #EXTINF:1.500000,\nseg_00001.m4s\n#EXT-X-ENDLIST\n"
        );
    }

    #[test]
    fn a_map_with_a_byte_range_keeps_it() {
        let tag = "EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"";
        assert_eq!(
            map_uri(tag),
            Some(("URI=\"", "init.mp4", "\",BYTERANGE=\"720@0\""))
        );
        assert_eq!(map_uri("EXTINF:2.0,"), None);
    }
}
