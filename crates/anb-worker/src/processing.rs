//! The I/O of one processing or conversion job: fetch the original to a temporary directory,
//! check it against the media limits, transcode it, store the outputs (MP4, thumbnail,
//! storyboard, HLS ladder; or the one file of a rendition). Failures are classified for the
//! retry policy: bad media (media outside the limits, and media too slow to process,
//! included) and a missing original are bad input (no retry); everything else is transient.

use std::path::Path;

use anb_domain::media::VideoStreamInfo;
use anb_domain::media::{HLS_MASTER, STORYBOARD_CUES, STORYBOARD_SPRITE};
use anb_domain::ports::{BlobError, BlobStore, TranscodeError};
use anb_domain::rendition::{Rendition, RenditionFormat};
use anb_domain::{
    BlobKey, ByteStream, JobFailure, MediaInfo, MediaInput, MediaLimits, Ports, ProcessedMedia,
    Profile, TranscodeOutputs, TranscodeReport, Video,
};
use anyhow::Context as _;
use futures::TryStreamExt as _;
use tokio::io::AsyncWriteExt as _;
use tokio_util::io::ReaderStream;
use tracing::debug;

use crate::progress::{ProgressOf, ProgressReporter};
use crate::scratch::JobDir;

/// How many outputs are stored at the same time (an HLS ladder is dozens of small files).
const UPLOADS_AT_ONCE: usize = 8;

/// Bytes read from disk per chunk when storing an output.
const READ_CHUNK: usize = 256 * 1024;

/// What a player reads when the original upload is gone from the blob store.
pub(crate) const MISSING_ORIGINAL: &str = "the original upload is missing";

/// The original of a job, fetched, checked and transcoded into a job directory (removed when
/// this is dropped).
struct Transcoded {
    _dir: JobDir,
    outputs: TranscodeOutputs,
    report: TranscodeReport,
}

/// Fetches `original` to a temporary directory, probes it and checks it against `limits`
/// (the rule uploads passed; the limits may have changed since, or the object been replaced)
/// before anything decodes it, then transcodes it with the profile `profile_for` picks for
/// it, writing progress to `progress_of`. The temporary directory is removed on every path,
/// cancellation included (it is dropped with this future); if the process dies, the next
/// worker to start removes it.
async fn transcode_original(
    ports: &Ports,
    limits: &MediaLimits,
    temp_root: Option<&Path>,
    original_key: &BlobKey,
    profile_for: impl FnOnce(&MediaInfo) -> Result<Profile, String>,
    progress_of: ProgressOf,
) -> Result<Transcoded, JobFailure> {
    let dir = JobDir::create(temp_root).map_err(transient)?;
    let original = dir.path().join("original.mp4");
    fetch(&*ports.blobs, original_key, &original).await?;
    let info = ports
        .transcoder
        .probe(MediaInput::File(original.clone()))
        .await
        .map_err(classify_transcode)?;
    limits.check(&info).map_err(JobFailure::BadInput)?;
    let profile = profile_for(&info).map_err(JobFailure::BadInput)?;
    let outputs = TranscodeOutputs::in_dir(dir.path());
    let started = std::time::Instant::now();
    let progress = ProgressReporter::start();
    let transcode = ports
        .transcoder
        .process(&original, &outputs, &profile, progress.sink());
    let report = progress
        .while_running(ports, progress_of, transcode)
        .await
        .map_err(classify_transcode)?;
    metrics::histogram!("anb_transcode_seconds", "profile" => profile.name.clone(), "job" => progress_of.job_kind())
        .record(started.elapsed().as_secs_f64());
    debug!(duration = report.duration_seconds, "transcoded");
    Ok(Transcoded {
        _dir: dir,
        outputs,
        report,
    })
}

/// Processes `video`: the closure [`Showcase::handle_job`](anb_domain::Showcase::handle_job)
/// runs. Makes every output of `profile` and stores them.
pub(crate) async fn process(
    ports: &Ports,
    profile: &Profile,
    limits: &MediaLimits,
    temp_root: Option<&Path>,
    video: Video,
) -> Result<ProcessedMedia, JobFailure> {
    let Transcoded {
        _dir,
        outputs,
        report,
    } = transcode_original(
        ports,
        limits,
        temp_root,
        &video.original,
        |_| Ok(profile.clone()),
        ProgressOf::Video(video.id),
    )
    .await?;
    let streams = BlobKey::streams(video.id);
    // A video processed again (a profile change) drops its earlier ladder: its segments differ.
    ports
        .blobs
        .delete_prefix(&streams)
        .await
        .context("removing earlier streaming outputs")
        .map_err(transient)?;
    let media = ProcessedMedia {
        processed: BlobKey::processed(video.id),
        thumbnail: BlobKey::thumbnail(video.id),
        stream: (!report.hls_rungs.is_empty()).then(|| BlobKey::stream_master(video.id)),
        storyboard: report
            .storyboard
            .then(|| streams_key(&streams, STORYBOARD_CUES)),
        duration_seconds: report.duration_seconds,
    };
    store(&*ports.blobs, &outputs.video(), &media.processed).await?;
    store(&*ports.blobs, &outputs.thumbnail(), &media.thumbnail).await?;
    if media.storyboard.is_some() {
        let sprite = streams_key(&streams, STORYBOARD_SPRITE);
        store(&*ports.blobs, &outputs.storyboard_sprite(), &sprite).await?;
        let cues = streams_key(&streams, STORYBOARD_CUES);
        store(&*ports.blobs, &outputs.storyboard_cues(), &cues).await?;
    }
    if let Some(master) = &media.stream {
        store_ladder(&*ports.blobs, &outputs.hls(), &streams, master).await?;
    }
    Ok(media)
}

/// Makes `rendition` of `video`: the closure
/// [`Showcase::handle_conversion`](anb_domain::Showcase::handle_conversion) runs. The
/// rendition's profile (`profile`'s rules, only its output, never an enlargement:
/// [`Rendition::profile`]) is picked from the original's probe; the result is stored under
/// the rendition's prefix (replacing an earlier attempt's), and its key returned.
pub(crate) async fn convert(
    ports: &Ports,
    profile: &Profile,
    limits: &MediaLimits,
    temp_root: Option<&Path>,
    video: Video,
    rendition: Rendition,
) -> Result<BlobKey, JobFailure> {
    let pick = |info: &MediaInfo| {
        let (width, height) = info
            .video
            .as_ref()
            .map_or((0, 0), VideoStreamInfo::displayed_size);
        rendition.profile(profile, width, height)
    };
    let Transcoded { _dir, outputs, .. } = transcode_original(
        ports,
        limits,
        temp_root,
        &video.original,
        pick,
        ProgressOf::Rendition(rendition.id),
    )
    .await?;
    let prefix = BlobKey::rendition(video.id, rendition.id);
    ports
        .blobs
        .delete_prefix(&prefix)
        .await
        .context("removing an earlier attempt's files")
        .map_err(transient)?;
    let output = streams_key(&prefix, rendition.format.file_name());
    match rendition.format {
        RenditionFormat::Mp4 => store(&*ports.blobs, &outputs.video(), &output).await?,
        RenditionFormat::Mp3 => store(&*ports.blobs, &outputs.audio(), &output).await?,
        RenditionFormat::Hls => {
            store_ladder(&*ports.blobs, &outputs.hls(), &prefix, &output).await?
        }
    }
    Ok(output)
}

/// `prefix/rest`, for the fixed names the transcoder writes (always valid keys).
fn streams_key(prefix: &BlobKey, rest: &str) -> BlobKey {
    prefix
        .join(rest)
        .unwrap_or_else(|e| unreachable!("a fixed output name is a valid key: {e}"))
}

/// Stores the HLS directory: its rungs' playlists, init and media segments (a few at a time)
/// under `{streams}/hls/{generation}/`, a name new to this run, so every URL of a rung always
/// serves the same bytes and caches may keep them for good; then the master playlist, its
/// rung URIs moved under the generation, at `master`: last, so a master in the store means a
/// whole ladder, and a player that loads it after a new run gets the new rungs.
async fn store_ladder(
    blobs: &dyn BlobStore,
    dir: &Path,
    streams: &BlobKey,
    master: &BlobKey,
) -> Result<(), JobFailure> {
    let generation = generation();
    let prefix = streams_key(streams, &format!("hls/{generation}"));
    let mut files = Vec::new();
    for rung in std::fs::read_dir(dir)
        .context("listing the HLS output")
        .map_err(transient)?
    {
        let rung = rung.context("listing the HLS output").map_err(transient)?;
        if !rung.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(rung.path())
            .context("listing a rung")
            .map_err(transient)?
        {
            let file = file.context("listing a rung").map_err(transient)?;
            let name = format!(
                "{}/{}",
                rung.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            );
            let key = prefix
                .join(&name)
                .with_context(|| format!("an HLS file named {name}"))
                .map_err(transient)?;
            files.push((file.path(), key));
        }
    }
    futures::stream::iter(files.iter().map(Ok))
        .try_for_each_concurrent(UPLOADS_AT_ONCE, |(path, key)| store(blobs, path, key))
        .await?;
    let text = std::fs::read_to_string(dir.join(HLS_MASTER))
        .context("reading the master playlist")
        .map_err(transient)?;
    let body: ByteStream = Box::pin(futures::stream::once(futures::future::ready(Ok(
        bytes::Bytes::from(under_generation(&text, &generation)),
    ))));
    blobs
        .put(master, body)
        .await
        .with_context(|| format!("storing {master}"))
        .map_err(transient)?;
    Ok(())
}

/// A name for this processing run's rungs: the time in nanoseconds, in hex.
fn generation() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}")
}

/// The master playlist with every URI line moved under `generation/`.
fn under_generation(master: &str, generation: &str) -> String {
    master
        .lines()
        .map(|line| {
            if line.is_empty() || line.starts_with('#') {
                line.to_owned()
            } else {
                format!("{generation}/{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn transient(error: anyhow::Error) -> JobFailure {
    JobFailure::Transient(error)
}

/// A missing original is bad input (it will not come back); other blob faults may pass.
fn classify_fetch(error: BlobError) -> JobFailure {
    match error {
        BlobError::NotFound => JobFailure::BadInput(MISSING_ORIGINAL.to_owned()),
        other => transient(anyhow::Error::new(other).context("reading the original upload")),
    }
}

/// Unusable media is bad input, and so is media that takes longer than the time limit (the
/// input decides how long processing takes: a retry would only take as long again); a
/// cancellation or a fault may pass on a retry.
fn classify_transcode(error: TranscodeError) -> JobFailure {
    match error {
        TranscodeError::BadMedia(reason) => JobFailure::BadInput(reason),
        TranscodeError::TimedOut(limit) => JobFailure::BadInput(format!(
            "the video takes too long to process (more than {} s)",
            limit.as_secs()
        )),
        other => transient(anyhow::Error::new(other).context("transcoding")),
    }
}

/// Streams the object at `key` into a new file at `to`.
async fn fetch(blobs: &dyn BlobStore, key: &BlobKey, to: &Path) -> Result<(), JobFailure> {
    let object = blobs.get(key, None).await.map_err(classify_fetch)?;
    let copy = async {
        let mut file = tokio::fs::File::create(to).await?;
        let mut body = object.body;
        while let Some(chunk) = body.try_next().await? {
            file.write_all(&chunk).await?;
        }
        file.flush().await
    };
    copy.await
        .context("copying the original upload to a temporary file")
        .map_err(transient)
}

/// Streams the file at `from` to the blob store under `key`.
async fn store(blobs: &dyn BlobStore, from: &Path, key: &BlobKey) -> Result<(), JobFailure> {
    let file = tokio::fs::File::open(from)
        .await
        .with_context(|| format!("opening the output {}", from.display()))
        .map_err(transient)?;
    let body: ByteStream = Box::pin(ReaderStream::with_capacity(file, READ_CHUNK));
    blobs
        .put(key, body)
        .await
        .with_context(|| format!("storing {key}"))
        .map_err(transient)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_master_playlist_points_into_the_runs_generation() {
        let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n";
        assert_eq!(
            under_generation(master, "1a2b"),
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n1a2b/720p/index.m3u8\n"
        );
    }

    #[test]
    fn bad_or_overlong_media_and_a_missing_original_are_bad_input_and_the_rest_is_transient() {
        let bad = classify_transcode(TranscodeError::BadMedia("no video stream".into()));
        assert!(matches!(bad, JobFailure::BadInput(reason) if reason == "no video stream"));
        let missing = classify_fetch(BlobError::NotFound);
        assert!(matches!(missing, JobFailure::BadInput(reason) if reason == MISSING_ORIGINAL));
        let overlong = classify_transcode(TranscodeError::TimedOut(Duration::from_secs(600)));
        assert!(
            matches!(&overlong, JobFailure::BadInput(reason) if reason.contains("more than 600 s")),
            "{overlong:?}"
        );
        for passing in [
            classify_transcode(TranscodeError::Cancelled),
            classify_transcode(TranscodeError::Unexpected(anyhow::anyhow!("disk full"))),
            classify_fetch(BlobError::Unexpected(anyhow::anyhow!("connection reset"))),
        ] {
            assert!(matches!(passing, JobFailure::Transient(_)));
        }
    }
}
